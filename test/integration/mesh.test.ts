// The mesh's HTTP path end to end: a real controller, a client pod and three server pods (network
// namespaces with `fathom-proxy init` rules and proxies as uid 2102), unmodified apps (a Python HTTP/1.1
// server, grpc-js). Requests to a service's cluster IP are resolved by the client's proxy, balanced over the
// service's pods, and cross to them over mTLS; HTTP/1 rides one multiplexed HTTP/2 connection per peer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createNetns, linkPair, needsRoot, waitForPort, type Netns } from '../helpers/netns.js';
import { APP_UID, identityOf, MeshController, Pod, PROXY_UID } from '../helpers/mesh.js';
import { ROOT } from '../helpers/proxy.js';

const NS = 'shop';
const WEB_IP = '198.19.0.10';
const ECHO_IP = '198.19.0.11';
const EMPTY_IP = '198.19.0.12';
const FIXTURES = `${ROOT}test/fixtures/mesh`;
const PYTHON = '/usr/bin/python3';

interface LoadSummary {
  p50_ms: number;
  p99_ms: number;
  sent: number;
  ok: number;
  failures: string[];
  pods: Record<string, number>;
  client_ids: Record<string, number>;
}

describe('mesh: HTTP/1 and gRPC between meshed pods', needsRoot, () => {
  const cleanup: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => cleanup.push(fn) };
  let mesh: MeshController;
  let client: Pod;
  const web: Pod[] = [];
  const webIps: string[] = [];
  const servers: ChildProcess[] = [];

  before(async () => {
    mesh = await MeshController.start(scope);
    const clientNs = await createNetns('fathom-t', scope);
    const webNs: Netns[] = [];
    for (let i = 0; i < 3; i++) {
      const ns = await createNetns('fathom-t', scope);
      const link = await linkPair(clientNs, ns, `198.18.${10 + i}.0/30`);
      webNs.push(ns);
      webIps.push(link.bIp);
      // Cluster IPs need a route for the app's connect() to reach the OUTPUT redirect.
      if (i === 0) await clientNs.exec('ip', ['route', 'add', '198.19.0.0/16', 'dev', link.aDev]);
    }

    mesh.applyService({ namespace: NS, name: 'web', clusterIP: WEB_IP, ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } });
    mesh.applyService({ namespace: NS, name: 'echo', clusterIP: ECHO_IP, ports: [{ port: 9090 }], selector: { grpc: 'yes' } });
    mesh.applyService({ namespace: NS, name: 'empty', clusterIP: EMPTY_IP, ports: [{ port: 80 }], selector: { app: 'nothing' } });
    mesh.applyPod({ namespace: NS, name: 'client', ip: clientNs.ip, labels: { app: 'client' }, owner: { kind: 'Deployment', name: 'client' }, serviceAccount: 'client', meshed: true });
    for (let i = 0; i < 3; i++) {
      mesh.applyPod({
        namespace: NS,
        name: `web-${i}`,
        ip: webIps[i],
        labels: i === 0 ? { app: 'web', grpc: 'yes' } : { app: 'web' },
        owner: { kind: 'Deployment', name: 'web' },
        serviceAccount: 'web',
        meshed: true,
        containerPorts: [{ containerPort: 8080 }, { containerPort: 9090 }],
      });
      // web-2 is the slow one: 100 ms per request.
      servers.push(webNs[i]!.spawn(PYTHON, [`${FIXTURES}/whoami.py`, `web-${i}`, '8080', ...(i === 2 ? ['100'] : [])], { uid: APP_UID, stdio: 'ignore' }));
    }
    webNs[0]!.spawn(process.execPath, [`${FIXTURES}/grpc-echo.mjs`, 'server', '9090'], { uid: APP_UID, stdio: 'ignore' });

    const failfast = { FATHOM_PROXY_FAILFAST_TIMEOUT: '1s' };
    const [c, ...w] = await Promise.all([
      Pod.start(clientNs, mesh, { name: 'client', namespace: NS, serviceAccount: 'client', env: failfast }),
      ...webNs.map((ns, i) => Pod.start(ns, mesh, { name: `web-${i}`, namespace: NS, serviceAccount: 'web' })),
    ]);
    client = c!;
    web.push(...w);
    await Promise.all(webNs.map((ns) => waitForPort(ns, '127.0.0.1', 8080, 10_000, APP_UID)));
    await waitForPort(webNs[0]!, '127.0.0.1', 9090, 10_000, APP_UID);
  });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  const load = async (count: number, seconds: number, workers: number): Promise<LoadSummary> => {
    const res = await client.ns.exec(PYTHON, [`${FIXTURES}/load.py`, `http://${WEB_IP}/`, String(count), String(seconds), String(workers)], { uid: APP_UID, timeoutMs: (seconds + 20) * 1000 });
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as LoadSummary;
  };
  const serverSum = async (name: string, labels: Record<string, string>) => (await Promise.all(web.map((p) => p.metric(name, labels)))).reduce((a, b) => a + b, 0);

  test('HTTP/1 crosses over mTLS as HTTP/2; the app learns the client identity; both sides label it', async (t) => {
    const res = await client.ns.exec('curl', ['-sS', '-H', 'fathom-client-id: forged', '-w', '\\n%{http_code}', `http://${WEB_IP}/hello`], { uid: APP_UID });
    const [body, status] = res.stdout.split('\n');
    assert.equal(status, '200', `${res.stderr} ${client.proxyLogs().slice(-3000)}`);
    const seen = JSON.parse(body!) as { client_id: string; orig_proto: string | null; host: string; version: string };
    assert.equal(seen.client_id, client.identity, 'the app sees the verified identity, never a forged one');
    assert.equal(seen.orig_proto, null, 'the upgrade marker does not reach the app');
    assert.equal(seen.host, WEB_IP);
    assert.equal(seen.version, 'HTTP/1.1');
    // A body, and an HTTP/1.0 client: the app gets HTTP/1.1 with the body; the client an HTTP/1.0 answer.
    const post = await client.ns.exec('curl', ['-sS', '--http1.0', '-i', '--data-binary', '@-', `http://${WEB_IP}/upload`], { uid: APP_UID, input: 'x'.repeat(100_000) });
    assert.match(post.stdout, /^HTTP\/1\.[01] 200/, post.stderr);
    assert.equal((JSON.parse(post.stdout.slice(post.stdout.indexOf('{'))) as { body: number }).body, 100_000);

    // Concurrent HTTP/1 clients: each endpoint still gets one connection from the client's proxy.
    const summary = await load(60, 20, 12);
    t.diagnostic(`60 requests from 12 clients: p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms`);
    assert.deepEqual(summary.failures, []);
    assert.equal(summary.ok, 60);
    assert.deepEqual(Object.keys(summary.client_ids), [client.identity]);
    const outConns = await client.metric('tcp_open_total', { direction: 'outbound', peer: 'dst', tls: 'true', server_id: identityOf('web', NS) });
    assert.ok(outConns >= 1 && outConns <= 3, `one multiplexed connection per endpoint, saw ${outConns}`);

    // Server side: inbound over mTLS from the client's identity, for HTTP and the transport.
    assert.equal(await serverSum('request_total', { direction: 'inbound', tls: 'true', client_id: client.identity }), 62);
    assert.ok((await serverSum('tcp_open_total', { direction: 'inbound', peer: 'src', tls: 'true', client_id: client.identity })) >= 1);
    // Client side: the endpoint's identity and its labels from discovery.
    const dst = { direction: 'outbound', tls: 'true', server_id: identityOf('web', NS), dst_namespace: NS, dst_service: 'web', dst_deployment: 'web', dst_serviceaccount: 'web' };
    assert.equal(await client.metric('request_total', dst), 62);
    const pods = new Set((await client.metrics()).filter((s) => s.name === 'request_total' && s.labels.dst_service === 'web').map((s) => s.labels.dst_pod));
    assert.ok([...pods].every((p) => /^web-[012]$/.test(p ?? '')), [...pods].join());
  });

  test('an Upgrade request stays HTTP/1.1 inside mTLS (here refused by the app, which answers it)', async () => {
    const res = await client.ns.exec('curl', ['-sS', '-H', 'Connection: Upgrade', '-H', 'Upgrade: fathom-test', `http://${WEB_IP}/`], { uid: APP_UID });
    const seen = JSON.parse(res.stdout) as { client_id: string; orig_proto: string | null };
    assert.equal(seen.client_id, client.identity, res.stderr);
    assert.equal(seen.orig_proto, null);
    assert.ok((await serverSum('request_total', { direction: 'inbound', tls: 'true', client_id: client.identity })) >= 63);
  });

  test('an unmeshed client reaches a meshed pod in clear; forged identities are dropped', async () => {
    // The proxy's own uid is not redirected: curl as 2102 is a client without a proxy.
    const res = await client.ns.exec('curl', ['-sS', '-H', 'fathom-client-id: forged', `http://${webIps[0]}:8080/`], { uid: PROXY_UID });
    const seen = JSON.parse(res.stdout) as { client_id: string | null };
    assert.equal(seen.client_id, null, res.stderr);
    assert.equal(await web[0]!.metric('request_total', { direction: 'inbound', tls: 'no_identity', no_tls_reason: 'no_tls_from_remote' }), 1);
  });

  test('gRPC (grpc-js) unary and server streaming through the mesh', async () => {
    const res = await client.ns.exec(process.execPath, [`${FIXTURES}/grpc-echo.mjs`, 'client', `${ECHO_IP}:9090`], { uid: APP_UID });
    assert.equal(res.code, 0, `${res.stdout} ${res.stderr}`);
    assert.deepEqual(JSON.parse(res.stdout), { unary: 'echo hello', stream: ['tick #0', 'tick #1', 'tick #2', 'tick #3', 'tick #4'] });
    const grpcOk = { direction: 'inbound', tls: 'true', client_id: client.identity, authority: `${ECHO_IP}:9090`, grpc_status: '0' };
    assert.equal(await web[0]!.metric('response_total', grpcOk), 2);
    assert.equal(await client.metric('response_total', { direction: 'outbound', server_id: identityOf('web', NS), dst_service: 'echo', grpc_status: '0' }), 2);
  });

  test('balancing: the slow endpoint gets few of 300 requests', async (t) => {
    const summary = await load(300, 30, 1);
    t.diagnostic(`answers by pod: ${JSON.stringify(summary.pods)}`);
    assert.deepEqual(summary.failures, []);
    const fast = (summary.pods['web-0'] ?? 0) + (summary.pods['web-1'] ?? 0);
    assert.ok(fast >= 240, `at least 80% to the fast endpoints: ${JSON.stringify(summary.pods)}`);
  });

  test('an endpoint removed from the platform during load loses no request', async (t) => {
    const running = load(100_000, 3, 4);
    await new Promise((r) => setTimeout(r, 1000));
    mesh.deletePod(NS, 'web-1');
    // Then its app goes away, as a terminated pod's would.
    await new Promise((r) => setTimeout(r, 500));
    servers[1]!.kill('SIGKILL');
    const summary = await running;
    t.diagnostic(`${summary.ok} requests, answers by pod: ${JSON.stringify(summary.pods)}`);
    assert.deepEqual(summary.failures, []);
    assert.ok(summary.ok > 50, `requests went through: ${JSON.stringify(summary.pods)}`);
    const afterwards = await load(40, 10, 2);
    assert.deepEqual(afterwards.failures, []);
    assert.equal(afterwards.pods['web-1'], undefined, JSON.stringify(afterwards.pods));
  });

  test('restarting the controller does not fail traffic in flight', async (t) => {
    const running = load(100_000, 3, 2);
    await new Promise((r) => setTimeout(r, 700));
    await mesh.restart(300);
    const summary = await running;
    t.diagnostic(`${summary.ok} requests across the restart`);
    assert.deepEqual(summary.failures, []);
    assert.ok(summary.ok > 20, JSON.stringify(summary));
    // New connections after the restart are resolved too.
    const res = await client.ns.exec('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://${WEB_IP}/`], { uid: APP_UID });
    assert.equal(res.stdout, '200', res.stderr);
  });

  test('failfast: a service without endpoints answers 503 after the failfast timeout', async (t) => {
    const started = Date.now();
    const res = await client.ns.exec('curl', ['-sS', '-D', '-', '-o', '/dev/null', `http://${EMPTY_IP}/`], { uid: APP_UID });
    const elapsed = Date.now() - started;
    t.diagnostic(`503 after ${elapsed} ms`);
    assert.match(res.stdout, /^HTTP\/1\.1 503/, res.stderr);
    assert.match(res.stdout, /fathom-proxy-error: service has no endpoints/i);
    assert.ok(elapsed >= 900 && elapsed < 3000, `answered after ${elapsed} ms (failfast 1 s)`);
  });
});
