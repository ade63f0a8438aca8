// HTTP/1.1 through the real proxy with real clients (curl, node:http, ws) and a backend that records what
// reached it: keep-alive and pooling, chunked and large bodies, backpressure, 100-continue, WebSocket,
// hop-by-hop headers, trailers, HTTP/1.0, and the golden metrics those requests produce.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { startProxyProcess, waitFor, type ProxyProcess } from '../helpers/proxy.js';
import {
  collect,
  header,
  LOOPBACK,
  rawExchange,
  sha256,
  startRawBackend,
  startRecordingBackend,
  summaryHandler,
  type RecordedRequest,
  type RecordingBackend,
} from '../helpers/raw.js';

const MiB = 1024 * 1024;
const CURL = '/usr/bin/curl';

interface CurlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs curl without a shell; a non-zero exit is returned, not thrown. */
function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(CURL, ['--silent', '--show-error', '--noproxy', '*', ...args], { maxBuffer: 4 * MiB }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: string[];
  readonly trailers: NodeJS.Dict<string>;
  readonly body: Buffer;
  readonly reusedSocket: boolean;
}

/** A node:http request; `body` chunks are written separately (no Content-Length: chunked). */
async function send(port: number, path: string, opts: { method?: string; agent?: Agent; body?: Buffer[]; headers?: Record<string, string>; trailers?: Record<string, string> } = {}): Promise<Reply> {
  const req = request({ host: LOOPBACK, port, path, method: opts.method ?? 'GET', agent: opts.agent ?? false, headers: opts.headers });
  for (const chunk of opts.body ?? []) req.write(chunk);
  if (opts.trailers) req.addTrailers(opts.trailers);
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return { status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, trailers: res.trailers, body: Buffer.concat(parts), reusedSocket: req.reusedSocket };
}

/** What the slow-reader test's endpoint has written so far, and whether it is waiting for 'drain'. */
const flood = { sent: 0, waitingForDrain: false, total: 0 };
const DOWNLOAD = randomBytes(8 * MiB);

/** The backend's routes. Anything else gets the default JSON summary of what arrived. */
function route(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): void {
  const url = new URL(req.url ?? '/', 'http://backend');
  switch (url.pathname) {
    case '/download': {
      // Chunked (no Content-Length), written with backpressure.
      let offset = 0;
      const step = 256 * 1024;
      const write = (): void => {
        while (offset < DOWNLOAD.length) {
          const chunk = DOWNLOAD.subarray(offset, offset + step);
          offset += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', write);
            return;
          }
        }
        res.end();
      };
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      write();
      return;
    }
    case '/chunks':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('one,');
      setImmediate(() => {
        res.write('two,');
        setImmediate(() => res.end('three'));
      });
      return;
    case '/trailers':
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', Trailer: 'X-Checksum' });
        res.write('body with ');
        res.addTrailers({ 'X-Checksum': 'sha256=abc', 'X-Req-Trailer': record.rawTrailers.join('=') });
        res.end('trailers');
      });
      return;
    case '/status': {
      req.resume();
      const code = Number(url.searchParams.get('code') ?? '200');
      res.writeHead(code, { 'content-length': '0' });
      res.end();
      return;
    }
    case '/grpc-status': {
      // gRPC's status the way an HTTP/1 answer carries it: in the trailers, or in the head of an empty one.
      req.resume();
      const code = url.searchParams.get('code') ?? '0';
      if (url.searchParams.get('in') === 'head') {
        res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': code, 'content-length': '0' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/grpc', trailer: 'grpc-status' });
      res.addTrailers({ 'grpc-status': code });
      res.end('x');
      return;
    }
    case '/reject-body':
      // Refuses an upload without reading it (what a server does after Expect: 100-continue it dislikes).
      res.writeHead(413, { 'content-type': 'text/plain', 'content-length': '9', connection: 'close' });
      res.end('too large');
      return;
    case '/flood': {
      // A large response written with backpressure, for the slow-reader test.
      const chunk = Buffer.alloc(MiB, 0x61);
      flood.sent = 0;
      flood.total = Number(url.searchParams.get('mib')) * MiB;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(flood.total) });
      const write = (): void => {
        flood.waitingForDrain = false;
        while (flood.sent < flood.total) {
          flood.sent += chunk.length;
          if (!res.write(chunk)) {
            flood.waitingForDrain = true;
            res.once('drain', write);
            return;
          }
        }
        res.end();
      };
      write();
      return;
    }
    default:
      summaryHandler(req, res, record);
  }
}

describe('HTTP/1 through the proxy', () => {
  let backend: RecordingBackend;
  let proxy: ProxyProcess;
  let continues = 0;
  let dir: string;
  const sockets: WebSocket[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fathom-http1-'));
    backend = await startRecordingBackend(route);
    // The backend answers Expect: 100-continue itself here, so the test sees that the 100 came from it.
    backend.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      continues++;
      if (req.url !== '/reject-body') res.writeContinue();
      backend.server.emit('request', req, res);
    });
    const wss = new WebSocketServer({ noServer: true });
    backend.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
        // No h2c here: answered as plain HTTP/1.1, the body being the first Content-Length bytes.
        const want = Number(req.headers['content-length'] ?? '0');
        let body = head;
        const reply = () => {
          const text = JSON.stringify({ url: req.url, body: body.subarray(0, want).toString(), upgrade: req.headers.upgrade });
          socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
        };
        if (body.length >= want) reply();
        else socket.on('data', (d: Buffer) => (body = Buffer.concat([body, d])).length >= want && reply());
        return;
      }
      wss.handleUpgrade(req, socket as never, head, (ws) => {
        sockets.push(ws);
        ws.send('hello from the backend');
        ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo: ${String(data)}`, { binary: isBinary }));
      });
    });
    // An HTTP CONNECT proxy behind ours: tunnels (echoes) ok.test, refuses deny.test.
    backend.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url === 'deny.test:443') {
        socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny');
        return;
      }
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    });
    const dst = `${LOOPBACK}:${backend.port}`;
    proxy = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: dst, FATHOM_PROXY_INBOUND_DEFAULT_DST: dst });
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await proxy?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('keep-alive: requests share one client connection and reuse pooled backend connections', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const srcBefore = await proxy.metric('tcp_open_total', { direction: 'outbound', peer: 'src' });
    const backendBefore = backend.connections();
    const requests = 10;
    const replies: Reply[] = [];
    for (let i = 0; i < requests; i++) replies.push(await send(proxy.outboundPort, `/keepalive/${i}`, { agent }));
    agent.destroy();

    assert.deepEqual(replies.map((r) => r.status), Array(requests).fill(200));
    assert.deepEqual(replies.map((r) => JSON.parse(r.body.toString()).url), replies.map((_, i) => `/keepalive/${i}`));
    assert.ok(replies.slice(1).every((r) => r.reusedSocket), 'the client reused its connection to the proxy');
    assert.equal((await proxy.metric('tcp_open_total', { direction: 'outbound', peer: 'src' })) - srcBefore, 1);
    const opened = backend.connections() - backendBefore;
    assert.ok(opened <= 1, `the proxy opened ${opened} backend connections for ${requests} sequential requests`);
  });

  test('keep-alive with curl: several URLs on one connection', async () => {
    const base = `http://${LOOPBACK}:${proxy.outboundPort}`;
    const r = await curl(['--verbose', '-o', '/dev/null', '-o', '/dev/null', '-o', '/dev/null', '-w', '%{http_code} ', `${base}/a`, `${base}/b`, `${base}/c`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '200 200 200');
    assert.match(r.stderr, /Re-using existing connection/i);
  });

  test('inbound: the same request through the inbound listener', async () => {
    const before = await proxy.metric('request_total', { direction: 'inbound' });
    const reply = await send(proxy.inboundPort, '/from-a-peer');
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body.toString()).url, '/from-a-peer');
    assert.equal((await proxy.metric('request_total', { direction: 'inbound' })) - before, 1);
  });

  test('chunked request and response bodies pass intact', async () => {
    const parts = [Buffer.from('first chunk;'), Buffer.from('second chunk;'), randomBytes(100_000)];
    const up = await send(proxy.outboundPort, '/upload-chunked', { method: 'POST', body: parts });
    assert.equal(up.status, 200);
    assert.equal(JSON.parse(up.body.toString()).bodySha256, sha256(Buffer.concat(parts)));
    const seen = backend.requests.find((r) => r.url === '/upload-chunked')!;
    assert.equal(header(seen.rawHeaders, 'transfer-encoding'), 'chunked');
    assert.equal(header(seen.rawHeaders, 'content-length'), undefined);

    const down = await send(proxy.outboundPort, '/chunks');
    assert.equal(down.status, 200);
    assert.equal(down.headers['transfer-encoding'], 'chunked');
    assert.equal(down.body.toString(), 'one,two,three');
  });

  test('8 MiB upload with curl (Expect: 100-continue) and 8 MiB chunked download, verified by sha256', async () => {
    const file = join(dir, 'upload.bin');
    const upload = randomBytes(8 * MiB);
    writeFileSync(file, upload);
    const base = `http://${LOOPBACK}:${proxy.outboundPort}`;
    const continuesBefore = continues;
    const up = await curl(['--verbose', '--data-binary', `@${file}`, '-H', 'content-type: application/octet-stream', `${base}/upload-8mib`]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(JSON.parse(up.stdout).bodySha256, sha256(upload));
    assert.equal(JSON.parse(up.stdout).bodyBytes, upload.length);
    // curl asks before sending a large body; the backend's 100 Continue reached it through the proxy.
    assert.match(up.stderr, /> Expect: 100-continue/i);
    assert.match(up.stderr, /< HTTP\/1\.1 100 Continue/);
    assert.equal(continues - continuesBefore, 1);

    const out = join(dir, 'download.bin');
    const down = await curl(['-o', out, '-w', '%{http_code}', `${base}/download`]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stdout, '200');
    const got = readFileSync(out);
    assert.equal(got.length, DOWNLOAD.length);
    assert.equal(sha256(got), sha256(DOWNLOAD));
  });

  test('100-continue: a node client waits for the backend\'s 100 before sending its body', async () => {
    const body = randomBytes(64 * 1024);
    const continuesBefore = continues;
    const req = request({ host: LOOPBACK, port: proxy.outboundPort, method: 'POST', path: '/continue', agent: false, headers: { expect: '100-continue', 'content-length': String(body.length) } });
    const gotContinue = once(req, 'continue').then(() => req.end(body));
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    await gotContinue;
    const parts: Buffer[] = [];
    for await (const chunk of res) parts.push(chunk as Buffer);
    assert.equal(res.statusCode, 200);
    assert.equal(JSON.parse(Buffer.concat(parts).toString()).bodySha256, sha256(body));
    assert.equal(continues - continuesBefore, 1);
  });

  test('100-continue refused: the backend\'s final answer reaches a client that never sends its body', async () => {
    const req = request({ host: LOOPBACK, port: proxy.outboundPort, method: 'POST', path: '/reject-body', agent: false, headers: { expect: '100-continue', 'content-length': String(10 * MiB) } });
    req.on('continue', () => assert.fail('the backend never sent 100 Continue'));
    req.flushHeaders();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const parts: Buffer[] = [];
    for await (const chunk of res) parts.push(chunk as Buffer);
    req.destroy();
    assert.equal(res.statusCode, 413);
    assert.equal(Buffer.concat(parts).toString(), 'too large');
  });

  test('backpressure: a client that stops reading stalls the backend instead of filling the proxy\'s memory', async (t) => {
    const rssBefore = await proxy.metric('process_resident_memory_bytes');
    const totalMiB = 128;
    const socket = connect({ host: LOOPBACK, port: proxy.outboundPort });
    await once(socket, 'connect');
    socket.write(`GET /flood?mib=${totalMiB} HTTP/1.1\r\nHost: fathom.test\r\nConnection: close\r\n\r\n`);
    // Read the first MiB, then stop reading altogether.
    let received = 0;
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        received += d.length;
        if (received >= MiB) {
          socket.removeListener('data', onData);
          socket.pause();
          resolve();
        }
      };
      socket.on('data', onData);
    });
    // The backend must end up blocked on 'drain' with its byte count no longer moving. A stall is the
    // absence of events, so it is observed by polling: five checks 50 ms apart without progress.
    let last = -1;
    let steady = 0;
    await waitFor(() => {
      steady = flood.waitingForDrain && flood.sent === last ? steady + 1 : 0;
      last = flood.sent;
      return steady >= 5;
    }, 20_000, () => `the backend to stall (sent ${flood.sent / MiB} MiB)`);
    const rssStalled = await proxy.metric('process_resident_memory_bytes');
    t.diagnostic(`stalled after ${(flood.sent / MiB).toFixed(0)} MiB; proxy RSS ${(rssBefore / MiB).toFixed(0)} → ${(rssStalled / MiB).toFixed(0)} MiB`);
    assert.ok(flood.sent < 64 * MiB, `the backend wrote ${flood.sent / MiB} MiB of ${totalMiB} MiB to a client that reads nothing`);
    assert.ok(rssStalled - rssBefore < 64 * MiB, `the proxy grew by ${(rssStalled - rssBefore) / MiB} MiB while the client was not reading`);

    // Reading again drains everything, byte for byte.
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.resume();
    await once(socket, 'end');
    socket.destroy();
    assert.ok(received > totalMiB * MiB && received < totalMiB * MiB + 1024, `received ${received} bytes`);
  });

  test('WebSocket: upgrade through the proxy, messages both ways', async () => {
    const ws = new WebSocket(`ws://${LOOPBACK}:${proxy.outboundPort}/ws`);
    sockets.push(ws);
    const messages: Array<{ data: Buffer; binary: boolean }> = [];
    const waiters: Array<() => void> = [];
    ws.on('message', (data: Buffer, binary: boolean) => {
      messages.push({ data, binary });
      waiters.shift()?.();
    });
    const next = async (): Promise<{ data: Buffer; binary: boolean }> => {
      if (messages.length === 0) await new Promise<void>((r) => waiters.push(r));
      return messages.shift()!;
    };
    await once(ws, 'open');
    assert.equal(String((await next()).data), 'hello from the backend');
    ws.send('ping 1');
    assert.equal(String((await next()).data), 'echo: ping 1');
    const blob = randomBytes(MiB);
    ws.send(blob);
    const echoed = await next();
    assert.ok(echoed.binary);
    assert.equal(sha256(echoed.data), sha256(blob));
    ws.close(1000, 'done');
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 1000);
    assert.ok((await proxy.metric('response_total', { direction: 'outbound', status_code: '101' })) >= 1);
  });

  test('curl --http2 (an h2c upgrade the backend ignores), with and without a body, gets its HTTP/1.1 answer', async () => {
    const base = `http://${LOOPBACK}:${proxy.outboundPort}`;
    const post = await curl(['--http2', '-d', 'abc', `${base}/h2c-post`]);
    assert.equal(post.code, 0, post.stderr);
    assert.deepEqual(JSON.parse(post.stdout), { url: '/h2c-post', body: 'abc', upgrade: 'h2c' });
    const get = await curl(['--http2', `${base}/h2c-get`]);
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual(JSON.parse(get.stdout), { url: '/h2c-get', body: '', upgrade: 'h2c' });
  });

  test('CONNECT: an accepted tunnel carries bytes both ways; a refusal is relayed and closed', async () => {
    const socket = connect({ host: LOOPBACK, port: proxy.outboundPort });
    await once(socket, 'connect');
    const established = await collect(socket, 'CONNECT ok.test:443 HTTP/1.1\r\nHost: ok.test:443\r\n\r\nearly bytes;', {
      until: (data) => data.toString('latin1').endsWith('early bytes;'),
    });
    assert.match(established.data.toString('latin1'), /^HTTP\/1\.1 200 Connection Established\r\n/);
    const rest = await collect(socket, ' later bytes', { end: true });
    assert.ok(rest.closed, 'the tunnel closes after both sides ended');
    assert.equal(rest.data.toString('latin1'), ' later bytes');

    const denied = await rawExchange(proxy.outboundPort, 'CONNECT deny.test:443 HTTP/1.1\r\nHost: deny.test:443\r\n\r\n');
    assert.ok(denied.closed);
    assert.equal(denied.responses[0]?.status, 407);
    assert.equal(denied.responses[0]?.body.toString(), 'deny');
    assert.equal(header(denied.responses[0]!.rawHeaders, 'connection'), 'close');
  });

  test('hop-by-hop request fields are removed; end-to-end fields keep their case and order', async () => {
    const res = await rawExchange(
      proxy.outboundPort,
      'GET /hop-by-hop HTTP/1.1\r\n' +
        'Host: fathom.test\r\n' +
        'X-First: 1\r\n' +
        'Connection: keep-alive, X-Secret\r\n' +
        'X-Secret: hidden\r\n' +
        'Keep-Alive: timeout=5\r\n' +
        'Proxy-Connection: keep-alive\r\n' +
        'X-MiXeD-Case: Value With Spaces\r\n' +
        'x-dup: a\r\n' +
        'x-dup: b\r\n' +
        'x-last: 2\r\n' +
        '\r\n',
      { responses: 1 },
    );
    assert.equal(res.responses[0]?.status, 200);
    const seen = backend.requests.find((r) => r.url === '/hop-by-hop')!;
    const endToEnd: string[] = [];
    for (let i = 0; i < seen.rawHeaders.length; i += 2) {
      if (seen.rawHeaders[i]!.toLowerCase() !== 'connection') endToEnd.push(seen.rawHeaders[i]!, seen.rawHeaders[i + 1]!);
    }
    assert.deepEqual(endToEnd, ['Host', 'fathom.test', 'X-First', '1', 'X-MiXeD-Case', 'Value With Spaces', 'x-dup', 'a', 'x-dup', 'b', 'x-last', '2']);
    // The only Connection field is the proxy's own, for its pooled connection.
    assert.equal(header(seen.rawHeaders, 'connection'), 'keep-alive');
  });

  test('trailers pass both ways on chunked messages', async () => {
    const reply = await send(proxy.outboundPort, '/trailers', { method: 'POST', body: [Buffer.from('payload')], headers: { te: 'trailers', trailer: 'X-Req-Sum' }, trailers: { 'X-Req-Sum': 'req-123' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'body with trailers');
    assert.equal(reply.trailers['x-checksum'], 'sha256=abc');
    assert.equal(reply.trailers['x-req-trailer'], 'X-Req-Sum=req-123');
  });

  test('HTTP/1.0 with Host: answered, then the connection closes', async () => {
    const res = await rawExchange(proxy.outboundPort, 'GET /old-client HTTP/1.0\r\nHost: fathom.test\r\n\r\n');
    assert.ok(res.closed, 'the proxy closed the HTTP/1.0 connection');
    assert.equal(res.responses.length, 1);
    assert.equal(res.responses[0]!.status, 200);
    assert.equal(JSON.parse(res.responses[0]!.body.toString()).url, '/old-client');
    const viaCurl = await curl(['--http1.0', `http://${LOOPBACK}:${proxy.outboundPort}/old-curl`]);
    assert.equal(viaCurl.code, 0, viaCurl.stderr);
    assert.equal(JSON.parse(viaCurl.stdout).url, '/old-curl');
  });

  test('metrics: requests, responses by class and status, latency, connections', async () => {
    const labels = { direction: 'outbound', tls: 'disabled' };
    const count = (name: string, extra: Record<string, string> = {}) => proxy.metric(name, { ...labels, ...extra });
    const before = {
      requests: await count('request_total'),
      ok: await count('response_total', { classification: 'success', status_code: '200' }),
      failed: await count('response_total', { classification: 'failure', status_code: '500' }),
      latency: await count('response_latency_ms_count', { status_code: '200' }),
    };
    assert.equal((await send(proxy.outboundPort, '/status?code=200')).status, 200);
    assert.equal((await send(proxy.outboundPort, '/status?code=200')).status, 200);
    assert.equal((await send(proxy.outboundPort, '/status?code=500')).status, 500);

    assert.equal((await count('request_total')) - before.requests, 3);
    assert.equal((await count('response_total', { classification: 'success', status_code: '200' })) - before.ok, 2);
    assert.equal((await count('response_total', { classification: 'failure', status_code: '500' })) - before.failed, 1);
    assert.equal((await count('response_latency_ms_count', { status_code: '200' })) - before.latency, 2);
    assert.ok((await count('tcp_open_total', { peer: 'src' })) >= 3);
    assert.ok((await count('tcp_open_total', { peer: 'dst' })) >= 1);
    const samples = await proxy.metrics();
    const series = samples.find((s) => s.name === 'request_total' && s.labels.direction === 'outbound');
    assert.equal(series?.labels.target_addr, `${LOOPBACK}:${backend.port}`);
  });

  test('metrics: a grpc-status in the trailers or the head of an HTTP/1 response classifies it', async () => {
    const count = (code: string, classification: string) => proxy.metric('response_total', { direction: 'outbound', status_code: '200', grpc_status: code, classification });
    const before = { trailers: await count('14', 'failure'), head: await count('5', 'success') };
    const inTrailers = await send(proxy.outboundPort, '/grpc-status?code=14', { headers: { te: 'trailers' } });
    assert.equal(inTrailers.trailers['grpc-status'], '14');
    const inHead = await send(proxy.outboundPort, '/grpc-status?code=5&in=head');
    assert.equal(inHead.headers['grpc-status'], '5');
    assert.equal((await count('14', 'failure')) - before.trailers, 1);
    assert.equal((await count('5', 'success')) - before.head, 1);
  });

  test('a refused protocol switch is answered and closed, never turned into a raw tunnel', async () => {
    // A backend that ignores Upgrade (as many do) and keeps the connection open after its answer.
    const raw = await startRawBackend((socket) => socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found'));
    const p = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `${LOOPBACK}:${raw.port}` });
    try {
      const socket = connect({ host: LOOPBACK, port: p.outboundPort });
      await once(socket, 'connect');
      const first = await collect(
        socket,
        'GET /chat HTTP/1.1\r\nHost: fathom.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        { responses: 1 },
      );
      assert.equal(first.responses[0]?.status, 404);
      assert.equal(first.responses[0]?.body.toString(), 'not found');
      // Whatever the client sends next must not reach the backend as raw bytes.
      const second = await collect(socket, 'GET /smuggled HTTP/1.1\r\nHost: fathom.test\r\n\r\n', { timeoutMs: 3000 });
      socket.destroy();
      assert.ok(second.closed, 'the proxy closes the connection after a refused upgrade');
      assert.ok(!raw.received.join('').includes('/smuggled'), `the backend received: ${JSON.stringify(raw.received)}`);
    } finally {
      await p.stop();
      await raw.close();
    }
  });
});

describe('HTTP/1 response headers through the proxy', () => {
  test('hop-by-hop response fields are removed; the rest keep their case and order', async () => {
    const raw = await startRawBackend((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\n' +
          'X-Resp-First: 1\r\n' +
          'Connection: keep-alive, X-Drop\r\n' +
          'X-Drop: secret\r\n' +
          'Keep-Alive: timeout=5\r\n' +
          'Proxy-Connection: keep-alive\r\n' +
          'X-MiXeD-Resp: V\r\n' +
          'Content-Length: 2\r\n' +
          'x-resp-last: 2\r\n' +
          '\r\nok',
      ),
    );
    const p = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `${LOOPBACK}:${raw.port}` });
    try {
      const res = await rawExchange(p.outboundPort, 'GET / HTTP/1.1\r\nHost: fathom.test\r\n\r\n', { responses: 1 });
      const r = res.responses[0]!;
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ok');
      const endToEnd: string[] = [];
      for (let i = 0; i < r.rawHeaders.length; i += 2) {
        if (!['connection', 'keep-alive'].includes(r.rawHeaders[i]!.toLowerCase())) endToEnd.push(r.rawHeaders[i]!, r.rawHeaders[i + 1]!);
      }
      assert.deepEqual(endToEnd, ['X-Resp-First', '1', 'X-MiXeD-Resp', 'V', 'Content-Length', '2', 'x-resp-last', '2']);
      // Connection and Keep-Alive, if present, are the proxy's own for its client connection.
      assert.doesNotMatch(header(r.rawHeaders, 'connection') ?? '', /x-drop/i);
      assert.notEqual(header(r.rawHeaders, 'keep-alive'), 'timeout=5');
    } finally {
      await p.stop();
      await raw.close();
    }
  });
});
