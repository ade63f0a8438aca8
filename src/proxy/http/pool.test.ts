// The HTTP/1 pool as node:http's agent, against a real server on loopback: connections are reused most
// recent first, never past the idle timeout or a shorter keep-alive the server announced, closed when
// idle, counted in the transport metrics when opened, and handed over for good by a protocol switch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyMetrics } from '../metrics/registry.js';
import { EndpointTarget } from '../target/endpoint.js';
import { ConnectionTracker } from '../transport/connections.js';
import { Http1Pool } from './pool.js';
import { requestUpstream } from './upstream.js';

let server: Server;
let endpoint: EndpointTarget;
/** Server-side connections, in the order they were accepted. */
const accepted: Socket[] = [];

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    const hint = new URL(req.url ?? '/', 'http://x').searchParams.get('keep-alive');
    const peerPort = String(req.socket.remotePort);
    res.writeHead(200, hint ? { 'keep-alive': hint, 'x-peer-port': peerPort } : { 'x-peer-port': peerPort });
    res.end('ok');
  });
  server.on('connection', (s: Socket) => accepted.push(s));
  server.on('upgrade', (_req, socket: Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const key = `127.0.0.1:${port}`;
  endpoint = new EndpointTarget({
    addr: { host: '127.0.0.1', port },
    addrKey: key,
    labels: { direction: 'outbound', target_addr: key, tls: 'disabled' },
    connLabels: { direction: 'outbound', peer: 'dst', target_addr: key, tls: 'disabled' },
  });
});

after(() => server.close());

function newPool(idleTimeoutMs = 3000): { pool: Http1Pool; metrics: ProxyMetrics } {
  const metrics = new ProxyMetrics();
  return { pool: new Http1Pool({ idleTimeoutMs, connectTimeoutMs: 1000, tracker: new ConnectionTracker(metrics) }), metrics };
}

interface Sent {
  readonly peerPort: string;
  readonly reused: boolean;
}

async function get(pool: Http1Pool, path = '/'): Promise<Sent> {
  const up = requestUpstream(endpoint, { method: 'GET', path, headers: ['Host', 'pool.test'], agent: pool.agent(endpoint), maxHeaderBytes: 16 * 1024 });
  up.end();
  const [res] = (await once(up, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
  await new Promise((r) => setImmediate(r)); // the connection returns to the pool on the next tick
  return { peerPort: String(res.headers['x-peer-port']), reused: up.reusedSocket };
}

test('sequential requests share one connection; the pool reports reuse as http.Agent does', async () => {
  const { pool, metrics } = newPool();
  const first = await get(pool);
  const second = await get(pool);
  const third = await get(pool);
  pool.destroy();
  assert.equal(first.reused, false);
  assert.ok(second.reused && third.reused);
  assert.equal(second.peerPort, first.peerPort);
  assert.equal(third.peerPort, first.peerPort);
  assert.match(metrics.render(), /tcp_open_total\{[^}]*peer="dst"[^}]*\} 1\n/);
});

test('concurrent requests get a connection each, and both stay pooled for the next ones', async () => {
  const { pool } = newPool();
  const [a, b] = await Promise.all([get(pool), get(pool)]);
  assert.notEqual(a.peerPort, b.peerPort);
  const [c, d] = await Promise.all([get(pool), get(pool)]);
  assert.ok(c.reused && d.reused);
  assert.deepEqual([c.peerPort, d.peerPort].sort(), [a.peerPort, b.peerPort].sort());
  pool.destroy();
});

test('an idle connection is closed after the idle timeout and never reused', async () => {
  const { pool } = newPool(150);
  const first = await get(pool);
  const closed = once(accepted.at(-1)!, 'close');
  await sleep(200);
  const second = await get(pool); // past the timeout, whether or not the sweeper ran yet
  assert.equal(second.reused, false);
  assert.notEqual(second.peerPort, first.peerPort);
  await closed; // the sweeper closed the first connection
  pool.destroy();
});

test('a shorter keep-alive timeout announced by the server wins, less a second of margin', async () => {
  const { pool } = newPool(60_000);
  const hinted = await get(pool, '/?keep-alive=timeout%3D2');
  // Each response's hint applies to the idle time after it.
  const soon = await get(pool, '/?keep-alive=timeout%3D2');
  assert.ok(soon.reused && soon.peerPort === hinted.peerPort, 'kept, within the announced timeout');
  await sleep(1100);
  const later = await get(pool);
  assert.equal(later.reused, false, 'not reused a second before the server would close it');
  pool.destroy();
});

test('a keep-alive timeout under two seconds leaves no margin: the connection is not kept', async () => {
  const { pool } = newPool(60_000);
  const hinted = await get(pool, '/?keep-alive=timeout%3D1');
  const next = await get(pool);
  assert.equal(next.reused, false);
  assert.notEqual(next.peerPort, hinted.peerPort);
  pool.destroy();
});

test('an idle timeout of 0 keeps idle connections until the server closes them, hints aside (as http.Agent)', async () => {
  const { pool } = newPool(0);
  const first = await get(pool, '/?keep-alive=timeout%3D2');
  await sleep(1100); // past what the hint would allow with a timeout of our own
  const second = await get(pool);
  assert.ok(second.reused && second.peerPort === first.peerPort);
  pool.destroy();
});

test('closeIdle closes idle connections; the next request opens a new one', async () => {
  const { pool } = newPool();
  const first = await get(pool);
  const closed = once(accepted.at(-1)!, 'close');
  pool.closeIdle();
  await closed;
  const second = await get(pool);
  assert.equal(second.reused, false);
  assert.notEqual(second.peerPort, first.peerPort);
  pool.destroy();
});

test('an accepted Upgrade takes its connection out of the pool', async () => {
  const { pool } = newPool();
  const up = requestUpstream(endpoint, {
    method: 'GET',
    path: '/',
    headers: ['Host', 'pool.test', 'Connection', 'Upgrade', 'Upgrade', 'echo'],
    agent: pool.agent(endpoint),
    maxHeaderBytes: 16 * 1024,
  });
  up.end();
  const [, socket] = (await once(up, 'upgrade')) as [IncomingMessage, Socket];
  socket.write('ping');
  const [echo] = (await once(socket, 'data')) as [Buffer];
  assert.equal(echo.toString(), 'ping');
  const next = await get(pool);
  assert.equal(next.reused, false, 'the upgraded connection was not handed to another request');
  pool.closeIdle();
  assert.ok(!socket.destroyed, 'closing idle connections left the tunnel alone');
  socket.destroy();
  pool.destroy();
});
