// HTTP/2 (h2c prior knowledge) through the real proxy process, with real peers: curl, node:http2 and h2load.
// Streams, trailers, flow control, resets in both directions, 1xx, pooling, errors and metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { promisify } from 'node:util';
import { startH2Backend, type H2Backend } from '../helpers/h2backend.js';
import { freePort, startProxyProcess, waitFor, type ProxyProcess } from '../helpers/proxy.js';

const run = promisify(execFile);

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
  informational: IncomingHttpHeaders[];
  rstCode: number;
}

/** One request on `session`; resolves when the stream has closed, however it ended. */
function request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string, trailers?: OutgoingHttpHeaders): Promise<Reply> {
  return new Promise((resolve) => {
    const stream = session.request(headers, { endStream: body === undefined, waitForTrailers: trailers !== undefined });
    const reply: Reply = { status: 0, headers: {}, body: Buffer.alloc(0), trailers: undefined, informational: [], rstCode: 0 };
    const chunks: Buffer[] = [];
    stream.on('error', () => {});
    stream.on('headers', (h) => reply.informational.push(h));
    stream.on('response', (h) => {
      reply.status = Number(h[':status']);
      reply.headers = h;
    });
    stream.on('trailers', (t) => (reply.trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    if (trailers) stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.on('close', () => {
      reply.body = Buffer.concat(chunks);
      reply.rstCode = stream.rstCode ?? 0;
      resolve(reply);
    });
    if (body !== undefined) stream.end(body);
  });
}

function h2(port: number): ClientHttp2Session {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  return session;
}

describe('HTTP/2 through the proxy', { timeout: 60_000 }, () => {
  let backend: H2Backend;
  let limited: H2Backend;
  let proxy: ProxyProcess;
  let limitedProxy: ProxyProcess;
  let deadProxy: ProxyProcess;
  let mutedProxy: ProxyProcess;
  let muted: Server;
  let client: ClientHttp2Session;

  before(async () => {
    [backend, limited] = await Promise.all([startH2Backend(), startH2Backend({ maxConcurrentStreams: 5 })]);
    const closedPort = await freePort();
    // An endpoint that accepts connections and never says a word (not HTTP/2, or hung).
    muted = createServer((s) => s.on('error', () => {}));
    muted.listen(0, '127.0.0.1');
    await once(muted, 'listening');
    [proxy, limitedProxy, deadProxy, mutedProxy] = await Promise.all([
      startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${backend.port}`, FATHOM_PROXY_INBOUND_DEFAULT_DST: `127.0.0.1:${backend.port}` }),
      startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${limited.port}` }),
      startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${closedPort}` }),
      startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${(muted.address() as AddressInfo).port}`, FATHOM_PROXY_OUTBOUND_CONNECT_TIMEOUT: '300ms' }),
    ]);
    client = h2(proxy.outboundPort);
  });

  after(async () => {
    client?.close();
    await Promise.all([proxy?.stop(), limitedProxy?.stop(), deadProxy?.stop(), mutedProxy?.stop()]);
    muted?.close();
    await Promise.all([backend?.close(), limited?.close()]);
  });

  test('curl --http2-prior-knowledge gets the response and its headers, on both listeners', async () => {
    for (const port of [proxy.outboundPort, proxy.inboundPort]) {
      const { stdout } = await run('curl', ['-sS', '--http2-prior-knowledge', '-D', '-', '--data-binary', 'hello from curl', '-H', 'content-type: text/plain', `http://127.0.0.1:${port}/echo`]);
      assert.match(stdout, /^HTTP\/2 200/);
      assert.match(stdout, new RegExp(`x-request-authority: 127\\.0\\.0\\.1:${port}`));
      assert.match(stdout, /\r\n\r\nhello from curl/);
      assert.match(stdout, /x-response-trailer: done/); // curl prints trailers after the body
    }
  });

  test('request and response bodies stream through with trailers both ways', async () => {
    const reply = await request(client, { ':method': 'POST', ':path': '/echo', 'content-type': 'application/x-test' }, 'abc'.repeat(1000), { 'x-request-trailer': 'from-client' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/x-test');
    assert.equal(reply.body.toString(), 'abc'.repeat(1000));
    assert.equal(reply.trailers?.['x-echoed-trailer'], 'from-client');
    assert.equal(reply.trailers?.['x-response-trailer'], 'done');
    assert.equal(reply.rstCode, constants.NGHTTP2_NO_ERROR);
  });

  test('8 MiB each way arrives intact', async () => {
    const body = randomBytes(8 << 20);
    const reply = await request(client, { ':method': 'POST', ':path': '/echo' }, body);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, body.length);
    assert.equal(createHash('sha256').update(reply.body).digest('hex'), createHash('sha256').update(body).digest('hex'));
  });

  test('flow control holds end to end: a client that does not read stops the endpoint writing', async () => {
    const total = 16 << 20;
    const stream = client.request({ ':path': `/flood?bytes=${total}` }, { endStream: true });
    stream.on('error', () => {});
    await once(stream, 'response');
    // Not reading: only the windows (client 64 KiB, proxy 64 KiB per stream) and small buffers may fill.
    let last = -1;
    await waitFor(async () => {
      const now = backend.floodWritten;
      const settled = now === last && now > 0;
      last = now;
      await new Promise((r) => setTimeout(r, 100));
      return settled;
    }, 5000, () => `flood writer to stall (written ${backend.floodWritten})`);
    assert.ok(backend.floodWritten < 2 << 20, `endpoint wrote ${backend.floodWritten} bytes to a client that read nothing`);
    let received = 0;
    stream.on('data', (c: Buffer) => (received += c.length));
    await once(stream, 'end');
    assert.equal(received, total);
  });

  test('a client RST_STREAM reaches the endpoint with its code', async () => {
    for (const code of [constants.NGHTTP2_CANCEL, constants.NGHTTP2_ENHANCE_YOUR_CALM]) {
      const before = backend.resets.get('/slow')?.length ?? 0;
      const count = backend.streams.get('/slow') ?? 0;
      const stream = client.request({ ':path': '/slow?ms=10000' }, { endStream: true });
      stream.on('error', () => {});
      await backend.arrived('/slow', count + 1);
      stream.close(code);
      await waitFor(() => (backend.resets.get('/slow')?.length ?? 0) > before, 3000, () => 'the endpoint to see the reset');
      assert.equal(backend.resets.get('/slow')!.at(-1), code);
    }
  });

  test('an endpoint RST_STREAM reaches the client with its code, before or during the response', async () => {
    const early = await request(client, { ':path': `/reset?code=${constants.NGHTTP2_REFUSED_STREAM}` });
    assert.equal(early.rstCode, constants.NGHTTP2_REFUSED_STREAM);
    const late = await request(client, { ':path': `/reset?code=${constants.NGHTTP2_INTERNAL_ERROR}&when=body` });
    assert.equal(late.status, 200);
    assert.equal(late.body.toString(), 'partial');
    assert.equal(late.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
  });

  test('HEAD and 204 responses end at their headers', async () => {
    const head = await request(client, { ':method': 'HEAD', ':path': '/' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'text/plain');
    assert.equal(head.body.length, 0);
    assert.equal(head.rstCode, constants.NGHTTP2_NO_ERROR);
    const empty = await request(client, { ':path': '/status?code=204' });
    assert.equal(empty.status, 204);
    assert.equal(empty.rstCode, constants.NGHTTP2_NO_ERROR);
  });

  test('1xx informational responses are relayed before the final response', async () => {
    const reply = await request(client, { ':path': '/hints' });
    assert.equal(reply.informational[0]?.[':status'], 103);
    assert.equal(reply.informational[0]?.link, '</style.css>; rel=preload');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'after hints');
  });

  test('streams of many client connections share one upstream connection', async () => {
    const sessionsBefore = backend.sessions;
    const clients = [h2(proxy.outboundPort), h2(proxy.outboundPort), h2(proxy.outboundPort)];
    const replies = await Promise.all(clients.flatMap((c) => Array.from({ length: 50 }, (_, i) => request(c, { ':path': `/mux/${i}` }))));
    for (const c of clients) c.close();
    assert.ok(replies.every((r) => r.status === 200));
    assert.ok(backend.sessions - sessionsBefore <= 1, `opened ${backend.sessions - sessionsBefore} upstream connections for 150 streams`);
  });

  test("the endpoint's SETTINGS_MAX_CONCURRENT_STREAMS is respected by opening more connections", async () => {
    const c = h2(limitedProxy.outboundPort);
    const replies = await Promise.all(Array.from({ length: 30 }, () => request(c, { ':path': '/slow?ms=300' })));
    c.close();
    assert.deepEqual(replies.map((r) => r.status), Array(30).fill(200));
    assert.ok(limited.sessions >= 6, `30 concurrent streams at 5 per connection went over ${limited.sessions} connections`);
  });

  test('after the endpoint sends GOAWAY, the next request opens a new connection', async () => {
    const c = h2(limitedProxy.outboundPort);
    assert.equal((await request(c, { ':path': '/before-goaway' })).status, 200);
    const sessionsBefore = limited.sessions;
    limited.goAway();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await request(c, { ':path': '/after-goaway' })).status, 200);
    assert.ok(limited.sessions > sessionsBefore);
    c.close();
  });

  test('a body-less request refused by a GOAWAY race is sent again on a new connection', async () => {
    const c = h2(limitedProxy.outboundPort);
    const reply = await request(c, { ':path': '/refuse-once' });
    c.close();
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'second time lucky');
    assert.equal(limited.streams.get('/refuse-once'), 2);
  });

  test('h2load: 2000 requests, 4 connections, 20 streams each, zero failures', async () => {
    const { stdout } = await run('h2load', ['-n', '2000', '-c', '4', '-m', '20', `http://127.0.0.1:${proxy.outboundPort}/h2load`]);
    const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
    assert.ok(m, stdout);
    assert.deepEqual(m.slice(1).map(Number), [2000, 2000, 2000, 2000, 0, 0, 0], stdout);
    assert.match(stdout, /status codes: 2000 2xx/);
  });

  test('when the endpoint is down: 502 with fathom-proxy-error, or gRPC UNAVAILABLE for gRPC', async () => {
    const c = h2(deadProxy.outboundPort);
    const plain = await request(c, { ':path': '/' });
    assert.equal(plain.status, 502);
    assert.equal(plain.headers['fathom-proxy-error'], 'connection refused');
    const grpc = await request(c, { ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc', te: 'trailers' }, Buffer.from([0, 0, 0, 0, 0]));
    assert.equal(grpc.status, 200);
    assert.equal(grpc.headers['grpc-status'], '14');
    assert.equal(grpc.headers['grpc-message'], 'connection refused');
    assert.equal(grpc.headers['fathom-proxy-error'], 'connection refused');
    c.close();
    assert.equal(await deadProxy.metric('response_total', { direction: 'outbound', status_code: '502', classification: 'failure' }), 1);
    assert.equal(await deadProxy.metric('response_total', { direction: 'outbound', grpc_status: '14', classification: 'failure' }), 1);
  });

  test('when the endpoint never answers the HTTP/2 handshake: 504, or gRPC DEADLINE_EXCEEDED', async () => {
    const c = h2(mutedProxy.outboundPort);
    const [plain, grpc] = await Promise.all([
      request(c, { ':path': '/' }),
      request(c, { ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc' }, Buffer.alloc(5)),
    ]);
    c.close();
    assert.equal(plain.status, 504);
    assert.equal(plain.headers['fathom-proxy-error'], 'connect timed out');
    assert.equal(grpc.status, 200);
    assert.equal(grpc.headers['grpc-status'], '4');
    assert.equal(grpc.headers['grpc-message'], 'connect timed out');
  });

  test('metrics count requests and responses by authority, status and gRPC status', async () => {
    const authority = `127.0.0.1:${proxy.outboundPort}`;
    const requestsBefore = await proxy.metric('request_total', { direction: 'outbound', authority });
    assert.equal((await request(client, { ':path': '/status?code=503' })).status, 503);
    const g = await request(client, { ':method': 'POST', ':path': '/grpc-error', 'content-type': 'application/grpc' }, Buffer.alloc(5));
    assert.equal(g.headers['grpc-status'], '13');
    assert.equal(await proxy.metric('request_total', { direction: 'outbound', authority, tls: 'disabled', target_addr: `127.0.0.1:${backend.port}` }), requestsBefore + 2);
    assert.equal(await proxy.metric('response_total', { direction: 'outbound', authority, status_code: '503', classification: 'failure' }), 1);
    assert.equal(await proxy.metric('response_total', { direction: 'outbound', authority, grpc_status: '13', classification: 'failure' }), 1);
    assert.ok((await proxy.metric('response_total', { direction: 'outbound', authority, status_code: '200', classification: 'success' })) > 100);
    assert.ok((await proxy.metric('response_latency_ms_count', { direction: 'outbound', status_code: '200' })) > 100);
    const inboundLabels = { direction: 'inbound', authority: `127.0.0.1:${proxy.inboundPort}`, status_code: '200' };
    const inboundBefore = await proxy.metric('response_total', inboundLabels);
    const inbound = h2(proxy.inboundPort);
    assert.equal((await request(inbound, { ':path': '/in' })).status, 200);
    inbound.close();
    assert.equal(await proxy.metric('response_total', inboundLabels), inboundBefore + 1);
  });
});

