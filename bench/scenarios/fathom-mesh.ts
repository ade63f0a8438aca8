// fathom-mesh: the real mesh path, client → outbound fathom-proxy → mTLS → inbound fathom-proxy →
// server, with a fathom-controller (bin/, memory platform) giving discovery and identities. Reported as
// RSS of the larger proxy and CPU of both (issue 9).
//
// PENDING — what exists and what is missing:
// - start() below wires the real pieces on loopback: bin/fathom-controller with a memory-platform state
//   (a meshed server pod at 127.0.0.1 whose service targets the inbound proxy's port), two proxies
//   certified by it, the client's proxy reaching the service's cluster IP through
//   FATHOM_PROXY_OUTBOUND_DEFAULT_DST. Discovery works (requests carry dst_service="server"), and
//   `verify` checks the server's proxy counted the requests with tls="true".
// - But on loopback the hop is in clear, by design: the proxy (like Linkerd) never originates mTLS to a
//   loopback endpoint (tls="no_identity", no_tls_reason="loopback"), so `verify` fails, as it must.
// TODO(mesh): move the two proxies into two network namespaces with pod addresses, as
// test/helpers/mesh.ts does (`fathom-proxy init` rules, proxies as uid 2102, a relay to the controller):
// the backend then runs inside the server's namespace and the load generator inside the client's (or
// reaches the client's outbound listener through a veth). Keep `verify`. Then make `unavailable` return
// undefined; measure.ts already reports the larger RSS and the summed CPU.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpOk, start, waitUntil, type Child } from '../lib/processes.js';
import { PROXY_BIN, proxyPorts, ROOT } from './fathom-1hop.js';
import type { RunningScenario, Scenario } from './scenario.js';

const CONTROLLER_BIN = `${ROOT}bin/fathom-controller`;
const NAMESPACE = 'bench';
/** The service's cluster IP: inside the proxy's default discovery networks, never connected to. */
const CLUSTER_IP = '198.19.250.1';
const SERVICE_PORT = 80;

const identityOf = (serviceAccount: string): string => `${serviceAccount}.${NAMESPACE}.serviceaccount.identity.fathom.cluster.local`;

async function startController(dir: string, statePath: string): Promise<{ child: Child; port: number; identity: string; anchors: string }> {
  const stateDir = join(dir, 'controller');
  mkdirSync(stateDir, { recursive: true });
  const child = start('fathom-controller', process.execPath, [CONTROLLER_BIN, '--addr', '127.0.0.1:0', '--api-addr', '127.0.0.1:0', '--state-dir', stateDir, '--platform', 'memory', '--memory-state', statePath]);
  let port = 0;
  await waitUntil(child, async () => {
    const m = /serving destination and identity over TLS addr=127\.0\.0\.1:(\d+)/.exec(child.logs());
    if (m) port = Number(m[1]);
    return port > 0;
  }, 15_000);
  const identity = /identity=(\S+)/.exec(child.logs())?.[1] ?? '';
  return { child, port, identity, anchors: readFileSync(join(stateDir, 'trust-anchors.pem'), 'utf8') };
}

async function inboundTlsRequests(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('request_total{') && line.includes('direction="inbound"') && line.includes('tls="true"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

export const MESH_PENDING =
  'pending: needs two network namespaces (the proxy never uses mTLS to a loopback endpoint, so a loopback mesh would measure a hop in clear); see TODO(mesh) in bench/scenarios/fathom-mesh.ts';

export const fathomMesh: Scenario = {
  name: 'fathom-mesh',
  description: 'client → fathom-proxy (outbound) → mTLS → fathom-proxy (inbound) → server, with a controller',
  protocols: ['http1', 'grpc'],
  unavailable: () => MESH_PENDING,
  async start(ctx): Promise<RunningScenario> {
    const dir = join(ctx.tmpDir, `mesh-${ctx.protocol}`);
    mkdirSync(dir, { recursive: true });
    const server = await proxyPorts();
    const client = await proxyPorts();
    // The memory platform's state: the server pod, its service, and the two proxies' tokens.
    const statePath = join(dir, 'state.json');
    writeFileSync(
      statePath,
      JSON.stringify({
        services: [{ namespace: NAMESPACE, name: 'server', clusterIP: CLUSTER_IP, ports: [{ name: 'http', port: SERVICE_PORT, targetPort: server.inbound }], selector: { app: 'server' } }],
        pods: [
          { namespace: NAMESPACE, name: 'server-0', ip: '127.0.0.1', labels: { app: 'server' }, serviceAccount: 'server', meshed: true, proxyInboundPort: server.inbound, containerPorts: [{ name: 'http', containerPort: server.inbound }] },
        ],
        tokens: { 'token-client': { namespace: NAMESPACE, serviceAccount: 'client' }, 'token-server': { namespace: NAMESPACE, serviceAccount: 'server' } },
      }),
    );
    const children: Child[] = [];
    const stop = async (): Promise<void> => {
      for (const c of children.reverse()) await c.stop(10_000);
    };
    try {
      const controller = await startController(dir, statePath);
      children.push(controller.child);
      writeFileSync(join(dir, 'anchors.pem'), controller.anchors);
      const proxy = (name: 'client' | 'server', ports: { inbound: number; outbound: number; admin: number; tap: number }, extra: Record<string, string>): Child => {
        writeFileSync(join(dir, `token-${name}`), `token-${name}`);
        const child = start(`fathom-proxy (${name})`, process.execPath, [...ctx.fathomNodeArgs, PROXY_BIN], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            FATHOM_PROXY_INBOUND_ADDR: `127.0.0.1:${ports.inbound}`,
            FATHOM_PROXY_OUTBOUND_ADDR: `127.0.0.1:${ports.outbound}`,
            FATHOM_PROXY_ADMIN_ADDR: `127.0.0.1:${ports.admin}`,
            FATHOM_PROXY_TAP_ADDR: `127.0.0.1:${ports.tap}`,
            FATHOM_PROXY_CONTROLLER_ADDR: `127.0.0.1:${controller.port}`,
            FATHOM_PROXY_CONTROLLER_IDENTITY: controller.identity,
            FATHOM_PROXY_IDENTITY_NAME: identityOf(name),
            FATHOM_PROXY_IDENTITY_TOKEN_FILE: join(dir, `token-${name}`),
            FATHOM_PROXY_TRUST_ANCHORS_FILE: join(dir, 'anchors.pem'),
            FATHOM_PROXY_DESTINATION_CONTEXT: JSON.stringify({ ns: NAMESPACE, pod: `${name}-0` }),
            FATHOM_PROXY_SHUTDOWN_GRACE_PERIOD: '2s',
            ...extra,
          },
          cwd: ctx.tmpDir,
        });
        children.push(child);
        return child;
      };
      const inbound = proxy('server', server, { FATHOM_PROXY_INBOUND_DEFAULT_DST: `127.0.0.1:${ctx.upstreamPort}` });
      const outbound = proxy('client', client, { FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `${CLUSTER_IP}:${SERVICE_PORT}` });
      // Ready means certified by the controller's identity service.
      await waitUntil(inbound, () => httpOk(`http://127.0.0.1:${server.admin}/ready`), 20_000);
      await waitUntil(outbound, () => httpOk(`http://127.0.0.1:${client.admin}/ready`), 20_000);
      return {
        port: client.outbound,
        proxies: [outbound.pid, inbound.pid],
        stop,
        async verify() {
          const n = await inboundTlsRequests(server.admin);
          if (n === 0) throw new Error(`the server's proxy counted no request over mTLS (tls="true"): not the mesh path. Client proxy: ${outbound.logs().slice(-600)}`);
        },
      };
    } catch (err) {
      await stop();
      throw err;
    }
  },
};
