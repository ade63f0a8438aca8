// fathom-mesh: the real mesh path, between two meshed pods as the local platform runs them:
//
//   client pod (netns)                                   server pod (netns)
//   load generator → 198.19.251.1:80 (the service)       PREROUTING → inbound fathom-proxy :4143 (uid 2102)
//     OUTPUT → outbound fathom-proxy :4140 (uid 2102) ══ mTLS over a veth ══▶ → backend on 127.0.0.1:<port>
//
// The outbound proxy resolves the service's cluster IP with the controller, balances over its one
// endpoint and connects to the server pod's address over mTLS (TLS 1.3) checking the server's identity;
// the inbound proxy terminates it and learns the client's identity. HTTP/1 crosses as HTTP/2 (one
// multiplexed session per peer), gRPC as HTTP/2. A fathom-controller (memory platform, in a namespace
// of its own) gives discovery and both certificates. Reported as RSS of the larger proxy and CPU of
// both (issue 9).
//
// Why namespaces: the proxy (like Linkerd) never originates mTLS to a loopback endpoint, so a mesh on
// 127.0.0.1 would measure a hop in clear. So the generator runs inside the client pod (`ip netns exec`)
// as an app would, and a backend of the scenario's own (the same program as every scenario's) inside
// the server pod; the shared one's port (ctx.upstreamPort) is not used. Unlike the loopback scenarios,
// connections pass the pods' nat rules and the proxy-to-proxy leg crosses a veth pair
// (docs/performance.md, Method, says what that costs).
//
// Addresses: the pods on 198.18.251.0/30, the service on 198.19.251.0/24 — inside the proxy's default
// discovery networks, and apart from the ranges tests use (test/e2e: 198.18.201–207.0/24 and
// 198.19.201–207.0/24; test/integration: 198.18.10–20.x, 198.19.0.x, and 198.18.250.0/24 by default).
// They exist only inside the namespaces, which are named `fbench-<runner pid>-<n>-{ctl,client,server}`
// and deleted on stop, when the runner exits, and (after a crash) at the next start.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryState } from '../../src/platform/memory/state.js';
import { startBackend } from '../lib/backend.js';
import { startController, startPod, sum, type MeshedPod } from '../lib/mesh.js';
import { addRoute, createRunDir, isRoot, linkPair, Netns, runTag, sweepStale } from '../lib/netns.js';
import type { RunningScenario, Scenario } from './scenario.js';

const NAMESPACE = 'bench';
const CLIENT_IP = '198.18.251.1';
const SERVER_IP = '198.18.251.2';
const SERVICE_CIDR = '198.19.251.0/24';
const CLUSTER_IP = '198.19.251.1';
const SERVICE_PORT = 80;

/** The memory platform's state: both pods (meshed), the server's service, and the proxies' tokens. */
function meshState(backendPort: number): MemoryState {
  const pod = (app: 'client' | 'server', ip: string) => ({
    namespace: NAMESPACE,
    name: `${app}-0`,
    ip,
    labels: { app },
    owner: { kind: 'Deployment', name: app },
    serviceAccount: app,
    meshed: true,
    containerPorts: app === 'server' ? [{ containerPort: backendPort }] : [],
  });
  return {
    services: [{ namespace: NAMESPACE, name: 'server', clusterIP: CLUSTER_IP, ports: [{ port: SERVICE_PORT, targetPort: backendPort }], selector: { app: 'server' } }],
    pods: [pod('client', CLIENT_IP), pod('server', SERVER_IP)],
    tokens: { 'token-client': { namespace: NAMESPACE, serviceAccount: 'client' }, 'token-server': { namespace: NAMESPACE, serviceAccount: 'server' } },
  };
}

/**
 * Throws unless the requests so far crossed over mTLS between the two identities: the client's proxy
 * sent them to the server's identity with tls="true", the server's proxy received them from the client's
 * identity with tls="true", and neither saw any request otherwise. (The proxy's TLS contexts allow
 * TLS 1.3 only, src/proxy/tls/context.ts, so tls="true" is TLS 1.3.)
 */
export async function verifyMtls(client: Pick<MeshedPod, 'identity' | 'metrics'>, server: Pick<MeshedPod, 'identity' | 'metrics'>): Promise<void> {
  const [out, inb] = await Promise.all([client.metrics(), server.metrics()]);
  const requests = (samples: typeof out, direction: string) => samples.filter((s) => s.name === 'request_total' && s.labels.direction === direction);
  const outMtls = sum(out, 'request_total', { direction: 'outbound', tls: 'true', server_id: server.identity, dst_service: 'server' });
  const inMtls = sum(inb, 'request_total', { direction: 'inbound', tls: 'true', client_id: client.identity });
  const outAll = requests(out, 'outbound').reduce((a, s) => a + s.value, 0);
  const inAll = requests(inb, 'inbound').reduce((a, s) => a + s.value, 0);
  if (outMtls > 0 && inMtls > 0 && outMtls === outAll && inMtls === inAll) return;
  // Only the TLS labels, so the message stays short enough for the results' note.
  const show = (samples: typeof out, direction: string) =>
    requests(samples, direction)
      .map((s) => `${['tls', 'no_tls_reason', 'server_id', 'client_id'].filter((k) => s.labels[k] !== undefined).map((k) => `${k}=${s.labels[k]}`).join(',')}: ${s.value}`)
      .join('; ') || 'none';
  throw new Error(
    `not the mesh path — client proxy's outbound requests: ${show(out, 'outbound')}; server proxy's inbound requests: ${show(inb, 'inbound')}; ` +
      `expected all with tls=true from ${client.identity} to ${server.identity}`,
  );
}

export const fathomMesh: Scenario = {
  name: 'fathom-mesh',
  description: 'client pod → fathom-proxy (outbound) → mTLS → fathom-proxy (inbound) → server pod, with a controller',
  protocols: ['http1', 'grpc'],
  unavailable: () => (isRoot() ? undefined : 'needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) for its network namespaces'),
  async start(ctx): Promise<RunningScenario> {
    await sweepStale();
    const tag = runTag();
    const { dir, remove } = createRunDir(tag);
    const namespaces: Netns[] = [];
    const stop = async (): Promise<void> => {
      // Pods first (their proxies drain), then the controller; deleting a namespace stops what runs in it.
      for (const ns of [...namespaces].reverse()) await ns.delete();
      remove();
    };
    try {
      const ctl = await Netns.create(`${tag}-ctl`);
      namespaces.push(ctl);
      const serverNs = await Netns.create(`${tag}-server`);
      namespaces.push(serverNs);
      const clientNs = await Netns.create(`${tag}-client`);
      namespaces.push(clientNs);
      const link = await linkPair(clientNs, serverNs, CLIENT_IP, SERVER_IP);
      // The cluster IP needs a route for the app's connect() to reach the OUTPUT redirect.
      await addRoute(clientNs, SERVICE_CIDR, link.aDev);

      const backend = await startBackend(ctx.payloadBytes, serverNs);
      const backendPort = ctx.protocol === 'http1' ? backend.ports.http : backend.ports.grpc;
      const statePath = join(dir, 'state.json');
      writeFileSync(statePath, JSON.stringify(meshState(backendPort)));
      const controller = await startController(ctl, dir, statePath);

      const pod = (ns: Netns, name: 'client' | 'server') =>
        startPod(ns, controller, { name: `${name}-0`, namespace: NAMESPACE, serviceAccount: name, token: `token-${name}`, dir, nodeArgs: ctx.fathomNodeArgs });
      const [server, client] = await Promise.all([pod(serverNs, 'server'), pod(clientNs, 'client')]);
      return {
        host: CLUSTER_IP,
        port: SERVICE_PORT,
        netns: clientNs.name,
        backendPid: backend.child.pid,
        proxies: [client.proxy.pid, server.proxy.pid],
        stop,
        verify: () => verifyMtls(client, server),
      };
    } catch (err) {
      await stop();
      throw err;
    }
  },
};
