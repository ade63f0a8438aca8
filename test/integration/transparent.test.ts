// The transparent path end to end: two pods (network namespaces joined by a veth), each with
// `fathom-proxy init` rules and a proxy running as uid 2102 with no passwd entry, no HOME and a
// read-only working directory. A client in one pod connects to the other pod's IP; the connection is
// redirected through the client's outbound proxy and the server's inbound proxy, with no change to
// either program; the same for gRPC and HTTP/2 (grpc-js peers, h2load). Servers here are not ours: Python's http.server and a small Python echo (Debian's /usr/bin/python3).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, linkPair, needsRoot, waitForPort, type Netns } from '../helpers/netns.js';
import { PROXY_BIN } from '../helpers/proxy.js';
import { parseExposition } from '../../src/lib/prom-text.js';

const PROXY_UID = 2102;
const APP_UID = 1000;

/** Starts fathom-proxy in `ns` the way a pod runs it: uid 2102, empty environment, read-only cwd. */
async function startPodProxy(ns: Netns, cwd: string): Promise<void> {
  const proxy = ns.spawn(process.execPath, [PROXY_BIN], {
    uid: PROXY_UID,
    cwd,
    env: { PATH: '/usr/bin:/bin', FATHOM_PROXY_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let logs = '';
  proxy.stderr!.setEncoding('utf8').on('data', (d: string) => (logs += d));
  proxy.once('exit', (code) => {
    if (code !== null && code !== 0) process.stderr.write(`proxy in ${ns.name} exited ${code}: ${logs}\n`);
  });
  await waitForPort(ns, '127.0.0.1', 4191, 10_000);
}

async function metrics(ns: Netns): Promise<ReturnType<typeof parseExposition>> {
  const res = await ns.exec('curl', ['-sf', 'http://127.0.0.1:4191/metrics']);
  assert.equal(res.code, 0, `scrape failed: ${res.stderr}`);
  return parseExposition(res.stdout);
}

function sum(samples: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string>): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

async function iptablesNat(ns: Netns): Promise<string> {
  const res = await ns.exec('iptables-save', ['-t', 'nat']);
  return res.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

/**
 * Two linked pods, each with `fathom-proxy init` rules and a proxy (uid 2102, read-only cwd). Returns the
 * pods, the server's IP, and the client's nat table as it was before init.
 */
async function twoMeshedPods(t: TestContext): Promise<{ client: Netns; server: Netns; serverIp: string; natBefore: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'fathom-ro-'));
  chmodSync(cwd, 0o555);
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const client = await createNetns('fathom-t', t);
  const server = await createNetns('fathom-t', t);
  const { bIp: serverIp } = await linkPair(client, server);
  const natBefore = await iptablesNat(client);
  for (const ns of [client, server]) {
    const init = await ns.exec(process.execPath, [PROXY_BIN, 'init']);
    assert.equal(init.code, 0, init.stderr);
    await startPodProxy(ns, cwd);
  }
  return { client, server, serverIp, natBefore };
}

test('a request crosses two transparent proxies between two pods', needsRoot, async (t) => {
  const { client, server, serverIp, natBefore } = await twoMeshedPods(t);

  // Unmodified third-party servers in the server pod, as an ordinary user.
  const www = mkdtempSync(join(tmpdir(), 'fathom-www-'));
  t.after(() => rmSync(www, { recursive: true, force: true }));
  chmodSync(www, 0o755);
  server.spawn('/usr/bin/python3', ['-m', 'http.server', '8080', '--bind', '0.0.0.0', '--directory', www], { uid: APP_UID, stdio: 'ignore' });
  const echo = 'import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("0.0.0.0",9000));s.listen()\nwhile True:\n  c,_=s.accept()\n  while (d:=c.recv(65536)): c.sendall(d)\n  c.close()\n';
  server.spawn('/usr/bin/python3', ['-c', echo], { uid: APP_UID, stdio: 'ignore' });
  await waitForPort(server, '127.0.0.1', 8080, 10_000, APP_UID);
  await waitForPort(server, '127.0.0.1', 9000, 10_000, APP_UID);

  // HTTP: curl in the client pod, as an app user, to the server pod's IP.
  for (let i = 0; i < 3; i++) {
    const res = await client.exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${serverIp}:8080/`], { uid: APP_UID });
    assert.equal(res.stdout, '200', res.stderr);
  }
  // TCP: bytes through both proxies, echoed back.
  const payload = 'fathom-transparent-'.repeat(1000);
  const tcp = await client.exec('/usr/bin/python3', ['-c', `import socket,sys\nc=socket.create_connection(("${serverIp}",9000))\nc.sendall(sys.stdin.buffer.read());c.shutdown(socket.SHUT_WR)\nb=b""\nwhile (d:=c.recv(65536)): b+=d\nsys.stdout.buffer.write(b)`], { uid: APP_UID, input: payload });
  assert.equal(tcp.stdout, payload, tcp.stderr);

  const out = await metrics(client);
  const inb = await metrics(server);
  const target = `${serverIp}:8080`;
  assert.equal(sum(out, 'request_total', { direction: 'outbound', target_addr: target, tls: 'disabled' }), 3, 'client proxy saw the requests');
  assert.equal(sum(inb, 'request_total', { direction: 'inbound', target_addr: target, tls: 'disabled' }), 3, 'server proxy saw the requests');
  assert.equal(sum(inb, 'response_total', { direction: 'inbound', status_code: '200', classification: 'success' }), 3);
  assert.ok(sum(out, 'tcp_open_total', { direction: 'outbound', peer: 'src', target_addr: `${serverIp}:9000` }) >= 1);
  assert.ok(sum(inb, 'tcp_open_total', { direction: 'inbound', peer: 'dst', target_addr: '127.0.0.1:9000' }) >= 1);
  assert.ok(sum(inb, 'tcp_read_bytes_total', { direction: 'inbound', peer: 'src', target_addr: `${serverIp}:9000` }) >= payload.length);

  // The proxy's own traffic was not redirected back into itself: it ran as 2102 and saw no loop.
  const ps = await server.exec('ps', ['-o', 'uid=,args=', '-C', 'node']);
  assert.match(ps.stdout, /^\s*2102 .*fathom-proxy/m);

  // init --remove leaves no rule behind.
  const removed = await client.exec(process.execPath, [PROXY_BIN, 'init', '--remove']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await iptablesNat(client), natBefore);
});

test('gRPC and HTTP/2 cross two transparent proxies between two pods', needsRoot, async (t) => {
  const { client, server, serverIp } = await twoMeshedPods(t);
  const fixture = new URL('../fixtures/grpc-pod.js', import.meta.url).pathname;
  server.spawn(process.execPath, [fixture, 'server', '50051'], { uid: APP_UID, stdio: 'ignore' });
  await waitForPort(server, '127.0.0.1', 50051, 10_000, APP_UID);

  const run = await client.exec(process.execPath, [fixture, 'client', `${serverIp}:50051`], { uid: APP_UID });
  assert.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout) as { ok: { code: number; message: string }; failed: { code: number; details: string }; stream: string[] };
  assert.deepEqual(seen.ok, { code: 0, message: 'echo hello' });
  assert.deepEqual(seen.failed, { code: 2, details: 'doughnut broke' });
  assert.deepEqual(seen.stream, ['m #0', 'm #1', 'm #2']);

  // h2load (nghttp2's load tool, not ours) against the same h2c server: many streams, zero failures.
  const load = await client.exec('h2load', ['-n', '200', '-c', '2', '-m', '10', '-H', 'content-type: application/grpc', `http://${serverIp}:50051/fathom.test.Echo/Unary`], { uid: APP_UID, timeoutMs: 30_000 });
  assert.match(load.stdout, /requests: 200 total, 200 started, 200 done/, load.stdout + load.stderr);

  const out = await metrics(client);
  const inb = await metrics(server);
  const target = `${serverIp}:50051`;
  assert.ok(sum(out, 'response_total', { direction: 'outbound', target_addr: target, grpc_status: '0', classification: 'success' }) >= 2);
  assert.equal(sum(out, 'response_total', { direction: 'outbound', target_addr: target, grpc_status: '2', classification: 'failure' }), 1);
  assert.equal(sum(inb, 'response_total', { direction: 'inbound', target_addr: target, grpc_status: '2', classification: 'failure' }), 1);
  assert.ok(sum(inb, 'request_total', { direction: 'inbound', target_addr: target }) >= 203);
});
