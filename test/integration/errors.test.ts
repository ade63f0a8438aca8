// What a client sees when the proxy cannot complete a request: the status, gRPC status and
// fathom-proxy-error header of docs/errors.md, with the real proxy and backends that fail on purpose.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { freePort, startProxyProcess, type ProxyProcess } from '../helpers/proxy.js';
import { collect, header, LOOPBACK, startRawBackend } from '../helpers/raw.js';

interface Outcome {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The error that cut the response short, if the body did not end cleanly. */
  readonly cut?: string;
}

async function call(port: number, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Outcome> {
  const req = request({ host: LOOPBACK, port, path: '/svc/Method', method: opts.method ?? 'GET', agent: false, headers: opts.headers });
  req.end(opts.body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  res.setEncoding('latin1');
  res.on('data', (d: string) => (body += d));
  const cut = await new Promise<string | undefined>((resolve) => {
    res.once('end', () => resolve(undefined));
    res.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  return { status: res.statusCode!, headers: res.headers, body, cut };
}

async function proxyTo(t: TestContext, port: number, env: Record<string, string> = {}): Promise<ProxyProcess> {
  const proxy = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `${LOOPBACK}:${port}`, ...env });
  t.after(() => proxy.stop());
  return proxy;
}

test('backend port closed: 502 with fathom-proxy-error "connection refused"', async (t) => {
  const proxy = await proxyTo(t, await freePort());
  const res = await call(proxy.outboundPort);
  assert.equal(res.status, 502);
  assert.equal(res.headers['fathom-proxy-error'], 'connection refused');
  assert.equal(res.body, 'connection refused\n');
  assert.equal(await proxy.metric('response_total', { direction: 'outbound', status_code: '502', classification: 'failure' }), 1);
});

test('gRPC request to a dead backend: HTTP 200 with grpc-status 14 (UNAVAILABLE) and grpc-message', async (t) => {
  const proxy = await proxyTo(t, await freePort());
  const res = await call(proxy.outboundPort, { method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' }, body: '\x00\x00\x00\x00\x00' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/grpc');
  assert.equal(res.headers['grpc-status'], '14');
  assert.equal(res.headers['grpc-message'], 'connection refused');
  assert.equal(res.headers['fathom-proxy-error'], 'connection refused');
  assert.equal(await proxy.metric('response_total', { direction: 'outbound', grpc_status: '14', classification: 'failure' }), 1);
});

/**
 * A listening port whose accept queue is full, so a new connection hangs in SYN-SENT: the listener is a
 * child process stopped with SIGSTOP (it never accepts), with backlog 1, filled by our own connections.
 * Linux drops SYNs to a full accept queue, so the proxy's connect can only time out. Loopback only, no
 * privileges. The "is it full" probe is the one place this file waits on a non-event (200 ms).
 */
async function blackholePort(t: TestContext): Promise<number> {
  const child = spawn(process.execPath, ['-e', "const s=require('net').createServer(()=>{});s.listen({host:'127.0.0.1',port:0,backlog:1},()=>console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  t.after(() => {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  process.kill(child.pid!, 'SIGSTOP');
  for (let i = 0; i < 8; i++) {
    const s = connect({ host: LOOPBACK, port });
    s.on('error', () => {});
    fillers.push(s);
    const connected = await Promise.race([once(s, 'connect').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 200))]);
    if (!connected) return port;
  }
  throw new Error('could not fill the accept queue of the stopped listener');
}

test('connect timeout: 504 with fathom-proxy-error "connect timed out" (gRPC: DEADLINE_EXCEEDED)', async (t) => {
  const proxy = await proxyTo(t, await blackholePort(t), { FATHOM_PROXY_OUTBOUND_CONNECT_TIMEOUT: '300ms' });
  const start = Date.now();
  const res = await call(proxy.outboundPort);
  assert.equal(res.status, 504);
  assert.equal(res.headers['fathom-proxy-error'], 'connect timed out');
  assert.ok(Date.now() - start >= 250, 'the proxy waited for its connect timeout');
  const grpc = await call(proxy.outboundPort, { method: 'POST', headers: { 'content-type': 'application/grpc+proto' }, body: '' });
  assert.equal(grpc.status, 200);
  assert.equal(grpc.headers['grpc-status'], '4');
  assert.equal(await proxy.metric('response_total', { direction: 'outbound', status_code: '504' }), 1);
});

test('backend resets in the middle of a response: the client connection is cut and the response counted as failed', async (t) => {
  const backend = await startRawBackend((socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`, () => setImmediate(() => socket.resetAndDestroy()));
  });
  t.after(() => backend.close());
  const proxy = await proxyTo(t, backend.port);
  const res = await call(proxy.outboundPort);
  assert.equal(res.status, 200);
  assert.ok(res.body.length < 100000, 'the client did not get a complete body');
  assert.ok(res.cut !== undefined, 'the client saw its response cut short, not a clean end');
  const failed = (await proxy.metrics()).filter((s) => s.name === 'response_total' && s.labels.status_code === '200');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.labels.classification, 'failure');
  assert.ok(failed[0]!.labels.error, 'the response carries an error label');
});

test('backend closes without answering: 502 "connection reset by upstream"', async (t) => {
  const backend = await startRawBackend((socket) => socket.destroy());
  t.after(() => backend.close());
  const proxy = await proxyTo(t, backend.port);
  const res = await call(proxy.outboundPort);
  assert.equal(res.status, 502);
  assert.equal(res.headers['fathom-proxy-error'], 'connection reset by upstream');
});

for (const [name, bytes] of [
  ['not HTTP at all', 'SSH-2.0-OpenSSH_9.2\r\n\r\n'],
  ['a bad status line', 'HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n'],
  ['a bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 12, 13\r\n\r\nhello world!'],
  ['a header with a bare CR', 'HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 0\r\n\r\n'],
] as const) {
  test(`backend sends a malformed response (${name}): 502 "malformed response from upstream"`, async (t) => {
    const backend = await startRawBackend((socket) => socket.end(bytes));
    t.after(() => backend.close());
    const proxy = await proxyTo(t, backend.port);
    const res = await call(proxy.outboundPort);
    assert.equal(res.status, 502);
    assert.equal(res.headers['fathom-proxy-error'], 'malformed response from upstream');
    assert.equal(await proxy.metric('response_total', { direction: 'outbound', status_code: '502' }), 1);
  });
}

test('an upload to a dead backend: the client gets its 502 without sending the whole body, and the connection closes', async (t) => {
  const proxy = await proxyTo(t, await freePort());
  const body = Buffer.alloc(32 * 1024 * 1024, 0x62);
  const socket = connect({ host: LOOPBACK, port: proxy.outboundPort });
  await once(socket, 'connect');
  socket.on('error', () => {}); // the proxy may reset a client that is still sending
  const answer = collect(socket, `POST /upload HTTP/1.1\r\nHost: fathom.test\r\nContent-Length: ${body.length}\r\n\r\n`, { timeoutMs: 10_000 });
  socket.write(body);
  const res = await answer;
  assert.equal(res.responses[0]?.status, 502);
  assert.equal(header(res.responses[0]!.rawHeaders, 'fathom-proxy-error'), 'connection refused');
  assert.ok(res.closed, 'the connection closes: the rest of the body must not be read as a new request');
});
