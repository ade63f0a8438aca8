// The mesh's TCP path end to end: a client pod and a redis pod (network namespaces with `fathom-proxy init`
// rules, proxies as uid 2102, a real controller). A real redis-server behind an opaque port answers
// redis-benchmark through opaque transport (mTLS to the peer's inbound port with a transport header);
// other TCP crosses over mTLS too. A capture on the wire shows no plaintext.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, linkPair, needsRoot, waitForOutput, waitForPort } from '../helpers/netns.js';
import { APP_UID, identityOf, MeshController, Pod } from '../helpers/mesh.js';
import { ROOT } from '../helpers/proxy.js';

const NS = 'store';
const REDIS_IP = '198.19.0.20';
const ECHO_IP = '198.19.0.21';
const ADMIN_IP = '198.19.0.22';
const FIXTURES = `${ROOT}test/fixtures/mesh`;
const PYTHON = '/usr/bin/python3';

describe('mesh: opaque TCP between meshed pods', needsRoot, () => {
  const cleanup: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => cleanup.push(fn) };
  let mesh: MeshController;
  let client: Pod;
  let redis: Pod;
  let redisDev = '';
  let redisPodIp = '';

  before(async () => {
    mesh = await MeshController.start(scope);
    const clientNs = await createNetns('fathom-t', scope);
    const redisNs = await createNetns('fathom-t', scope);
    const link = await linkPair(clientNs, redisNs, '198.18.20.0/30');
    redisDev = link.bDev;
    redisPodIp = link.bIp;
    await clientNs.exec('ip', ['route', 'add', '198.19.0.0/16', 'dev', link.aDev]);

    // 6379 is opaque by default (controller and proxies alike); 7000 is not, so it goes through detection.
    mesh.applyService({ namespace: NS, name: 'redis', clusterIP: REDIS_IP, ports: [{ port: 6379 }], selector: { app: 'redis' } });
    mesh.applyService({ namespace: NS, name: 'echo', clusterIP: ECHO_IP, ports: [{ port: 7000 }], selector: { app: 'redis' } });
    mesh.applyPod({ namespace: NS, name: 'client', ip: link.aIp, labels: { app: 'client' }, serviceAccount: 'client', meshed: true });
    // The pod also marks 7070 opaque (its service does not): HTTP to it goes through opaque transport.
    mesh.applyService({ namespace: NS, name: 'admin', clusterIP: ADMIN_IP, ports: [{ port: 7070 }], selector: { app: 'redis' } });
    mesh.applyPod({
      namespace: NS,
      name: 'redis-0',
      ip: link.bIp,
      labels: { app: 'redis' },
      annotations: { 'config.fathom.io/opaque-ports': '6379,7070' },
      owner: { kind: 'StatefulSet', name: 'redis' },
      serviceAccount: 'redis',
      meshed: true,
      containerPorts: [{ containerPort: 6379 }, { containerPort: 7000 }, { containerPort: 7070 }],
    });

    redisNs.spawn('/usr/bin/redis-server', ['--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { uid: APP_UID, cwd: '/tmp', stdio: 'ignore' });
    redisNs.spawn(PYTHON, [`${FIXTURES}/echo.py`, '7000'], { uid: APP_UID, stdio: 'ignore' });
    redisNs.spawn(PYTHON, [`${FIXTURES}/whoami.py`, 'redis-0', '7070'], { uid: APP_UID, stdio: 'ignore' });
    [client, redis] = await Promise.all([
      Pod.start(clientNs, mesh, { name: 'client', namespace: NS, serviceAccount: 'client' }),
      Pod.start(redisNs, mesh, { name: 'redis-0', namespace: NS, serviceAccount: 'redis' }),
    ]);
    await waitForPort(redisNs, '127.0.0.1', 6379, 10_000, APP_UID);
    await waitForPort(redisNs, '127.0.0.1', 7000, 10_000, APP_UID);
    await waitForPort(redisNs, '127.0.0.1', 7070, 10_000, APP_UID);
  });

  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('nothing crosses the wire in clear: a capture on the redis pod sees TLS, never the payloads', async () => {
    const secret = `fathom-secret-${Date.now()}`;
    const capture = join(mesh.dir, 'capture.bin');
    const sniffer = redis.ns.spawn(PYTHON, [`${FIXTURES}/sniff.py`, redisDev, capture], { stdio: ['pipe', 'pipe', 'inherit'] });
    await waitForOutput(sniffer, /^ready$/);

    // Redis on its opaque port: opaque transport.
    const set = await client.ns.exec('redis-cli', ['-h', REDIS_IP, '-p', '6379', 'SET', 'k', `${secret}-redis`], { uid: APP_UID });
    assert.equal(set.stdout.trim(), 'OK', `${set.stderr} ${client.proxyLogs().slice(-2000)}`);
    const get = await client.ns.exec('redis-cli', ['-h', REDIS_IP, '-p', '6379', 'GET', 'k'], { uid: APP_UID });
    assert.equal(get.stdout.trim(), `${secret}-redis`);
    // Other TCP (client speaks first, not HTTP): detected as TCP, then over mTLS.
    const echoScript = `import socket,sys\nc=socket.create_connection((sys.argv[1],7000))\nc.sendall(sys.argv[2].encode());c.shutdown(socket.SHUT_WR)\nb=b''\nwhile (d:=c.recv(65536)): b+=d\nprint(b.decode())`;
    const echo = await client.ns.exec(PYTHON, ['-c', echoScript, ECHO_IP, `${secret}-echo`], { uid: APP_UID });
    assert.equal(echo.stdout.trim(), `${secret}-echo`, echo.stderr);
    // Control: a UDP datagram is not redirected, so the capture must see its bytes in clear.
    await client.ns.exec(PYTHON, ['-c', `import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'${secret}-control', ('${redisPodIp}', 9))`]);

    const done = waitForOutput(sniffer, /^frames \d+$/);
    sniffer.stdin!.end();
    await done;
    const wire = readFileSync(capture);
    assert.ok(wire.includes(`${secret}-control`), 'the capture sees traffic in clear when there is some');
    assert.ok(!wire.includes(`${secret}-redis`), 'the redis value never crosses in clear');
    assert.ok(!wire.includes(`${secret}-echo`), 'the echoed bytes never cross in clear');
    // What a ClientHello shows in clear: the peer identity as SNI, and the ALPN of opaque transport.
    assert.ok(wire.includes(identityOf('redis', NS)), 'mTLS ClientHellos name the redis identity');
    assert.ok(wire.includes('transport.fathom.io/v1'), 'opaque transport was negotiated');

    const inbound = { direction: 'inbound', peer: 'src', tls: 'true', client_id: client.identity };
    assert.ok((await redis.metric('tcp_open_total', { ...inbound, target_addr: `${redisPodIp}:6379` })) >= 2);
    assert.ok((await redis.metric('tcp_open_total', { ...inbound, target_addr: `${redisPodIp}:7000` })) >= 1);
    const outbound = { direction: 'outbound', peer: 'dst', tls: 'true', server_id: identityOf('redis', NS), dst_service: 'redis', dst_statefulset: 'redis' };
    assert.ok((await client.metric('tcp_open_total', outbound)) >= 2);
  });

  test('HTTP to a port only the pod marks opaque rides opaque transport, announced as HTTP/2', async () => {
    const res = await client.ns.exec('curl', ['-sS', `http://${ADMIN_IP}:7070/`], { uid: APP_UID });
    const seen = JSON.parse(res.stdout) as { pod: string; client_id: string };
    assert.equal(seen.pod, 'redis-0', res.stderr);
    assert.equal(seen.client_id, client.identity);
    const inbound = { direction: 'inbound', tls: 'true', client_id: client.identity, target_addr: `${redisPodIp}:7070` };
    assert.equal(await redis.metric('request_total', inbound), 1);
    assert.equal(await redis.metric('tcp_open_total', { ...inbound, peer: 'src' }), 1, 'through the inbound port, with a transport header naming 7070');
  });

  test('redis-benchmark through the mesh (opaque transport, 50 connections)', async (t) => {
    const res = await client.ns.exec('redis-benchmark', ['-h', REDIS_IP, '-p', '6379', '-n', '2000', '-q', '-t', 'ping,set,get'], { uid: APP_UID, timeoutMs: 60_000 });
    const failures = () => [client, redis].map((p) => p.proxyLogs().split('\n').filter((l) => /failed|refused|WARN|ERROR/.test(l)).slice(-10).join('\n')).join('\n');
    assert.equal(res.code, 0, `${res.stderr}\n${failures()}`);
    const results = res.stdout.split(/[\r\n]+/).filter((l) => /requests per second/.test(l));
    for (const name of ['PING_INLINE', 'PING_MBULK', 'SET', 'GET']) {
      assert.ok(results.some((l) => l.startsWith(`${name}:`)), `${name} answered: ${res.stdout}`);
    }
    for (const line of results) t.diagnostic(line.trim());
    assert.ok((await redis.metric('tcp_open_total', { direction: 'inbound', peer: 'src', tls: 'true', client_id: client.identity })) >= 50);
  });
});
