// HTTP/2 attacks on the real proxy with raw frames (hardening.md §3 items 14-21): each is refused — a stream
// error or GOAWAY and a closed connection — nothing of it reaches the endpoint, and other connections,
// including one opened before the attack, keep working.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { startH2Backend, type H2Backend } from '../helpers/h2backend.js';
import {
  continuationFrame,
  dataFrame,
  ErrorCode,
  FrameType,
  getRequest,
  headerBlock,
  headersFrame,
  hpackIncremental,
  hpackIndexed,
  pingFrame,
  RawH2Client,
  rstStreamFrame,
  settingsFrame,
  staticStatus,
  windowUpdateFrame,
} from '../helpers/h2frames.js';
import { startProxyProcess, type ProxyProcess } from '../helpers/proxy.js';

const settle = () => new Promise((r) => setTimeout(r, 200));

/**
 * Sends `frame` up to `count` times, reading what comes back between batches as a peer that keeps up
 * would (a peer that never reads trips nghttp2's own outbound-queue limit first, tested separately).
 */
async function flood(client: RawH2Client, frame: Buffer, count: number): Promise<void> {
  for (let i = 0; i < count && !client.closed && !client.goaway(); i++) {
    client.send(frame);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
}

interface Reply {
  status: number;
  trailers: Record<string, unknown>;
  rstCode: number;
}

function get(session: ClientHttp2Session, headers: OutgoingHttpHeaders): Promise<Reply> {
  return new Promise((resolve) => {
    const s = session.request(headers, { endStream: true });
    const reply: Reply = { status: 0, trailers: {}, rstCode: 0 };
    s.on('error', () => {});
    s.on('response', (h) => (reply.status = Number(h[':status'])));
    s.on('trailers', (t) => (reply.trailers = t));
    s.resume();
    s.on('close', () => resolve({ ...reply, rstCode: s.rstCode ?? 0 }));
  });
}

describe('HTTP/2 attacks are refused without harming other connections', { timeout: 60_000 }, () => {
  let backend: H2Backend;
  let proxy: ProxyProcess;
  let bystander: ClientHttp2Session;
  let authority: string;
  let attacker: RawH2Client | undefined;

  before(async () => {
    backend = await startH2Backend();
    proxy = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${backend.port}` });
    authority = `127.0.0.1:${proxy.outboundPort}`;
    bystander = connect(`http://${authority}`);
    bystander.on('error', () => {});
    assert.equal((await get(bystander, { ':path': '/bystander' })).status, 200);
  });

  afterEach(async () => {
    attacker?.close();
    attacker = undefined;
    // The connection opened before the attack, a new one, and the readiness probe all still work.
    assert.equal((await get(bystander, { ':path': '/bystander' })).status, 200, 'existing connection');
    const fresh = connect(`http://${authority}`);
    fresh.on('error', () => {});
    assert.equal((await get(fresh, { ':path': '/fresh' })).status, 200, 'new connection');
    fresh.close();
    assert.equal((await fetch(`http://127.0.0.1:${proxy.adminPort}/ready`)).status, 200);
  });

  after(async () => {
    bystander?.close();
    await proxy?.stop();
    await backend?.close();
  });

  test('rapid reset: HEADERS + RST_STREAM in a loop gets GOAWAY(ENHANCE_YOUR_CALM) and bounded upstream work', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    const block = headerBlock(getRequest(authority, '/rapid'));
    // In batches, reading in between, so the GOAWAY is read before the proxy's close resets the connection.
    for (let i = 0; i < 5000 && !attacker.goaway() && !attacker.closed; i++) {
      const id = 1 + 2 * i;
      attacker.send(Buffer.concat([headersFrame(id, block, { endStream: true }), rstStreamFrame(id, ErrorCode.CANCEL)]));
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    await attacker.waitClosed(5000);
    // The proxy sends GOAWAY(ENHANCE_YOUR_CALM) and closes; when our unread frames are still in its
    // buffer the kernel answers the close with a reset, which can overtake the GOAWAY: the log tells.
    const goaway = attacker.goaway();
    if (goaway) assert.equal(goaway.code, ErrorCode.ENHANCE_YOUR_CALM, attacker.describe());
    assert.match(proxy.logs(), /exceeded a limit reason="too many stream resets"/);
    await settle();
    const reached = backend.streams.get('/rapid') ?? 0;
    assert.ok(reached <= 300, `${reached} of the reset streams reached the endpoint`);
  });

  test('MadeYouReset: frames that make the proxy reset streams close the connection', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    const block = headerBlock([[':method', 'POST'], [':scheme', 'http'], [':authority', authority], [':path', '/made-you-reset']]);
    for (let i = 0; i < 2000 && !attacker.closed; i++) {
      const id = 1 + 2 * i;
      // A zero WINDOW_UPDATE increment on a stream is an error the receiver must answer with RST_STREAM.
      attacker.send(Buffer.concat([headersFrame(id, block), windowUpdateFrame(id, 0)]));
    }
    await attacker.waitClosed(5000);
    assert.ok((backend.streams.get('/made-you-reset') ?? 0) <= 300);
  });

  test('CONTINUATION flood: an endless header block closes the connection', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    attacker.send(headersFrame(1, headerBlock(getRequest(authority, '/continuation')), { endHeaders: false }));
    for (let i = 0; i < 20000 && !attacker.closed; i++) attacker.send(continuationFrame(1, headerBlock([[`x-flood-${i}`, 'v']])));
    await attacker.waitClosed(5000);
    assert.equal(backend.streams.get('/continuation'), undefined);
  });

  test('a header block cut off by an abrupt close does no harm', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    attacker.send(headersFrame(1, headerBlock(getRequest(authority, '/abrupt')), { endHeaders: false }));
    attacker.send(continuationFrame(1, headerBlock([['x-a', 'b']])));
    attacker.socket.resetAndDestroy();
    await settle();
    assert.equal(backend.streams.get('/abrupt'), undefined);
  });

  test('a header list over 64 KiB is refused on its stream; the connection goes on', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    const fields = getRequest(authority, '/big-headers');
    for (let i = 0; i < 20; i++) fields.push([`x-big-${i}`, 'a'.repeat(4000)]);
    const block = headerBlock(fields);
    const parts: Buffer[] = [];
    for (let o = 0; o < block.length; o += 16_000) parts.push(block.subarray(o, o + 16_000));
    attacker.send(headersFrame(1, parts[0]!, { endHeaders: parts.length === 1, endStream: true }));
    for (let i = 1; i < parts.length; i++) attacker.send(continuationFrame(1, parts[i]!, i === parts.length - 1));
    await attacker.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 1, 3000);
    assert.equal(attacker.rstCode(1), ErrorCode.ENHANCE_YOUR_CALM);
    // The same connection still serves a normal request.
    attacker.send(headersFrame(3, headerBlock(getRequest(authority, '/after-big')), { endStream: true }));
    const reply = await attacker.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 3, 3000);
    assert.equal(staticStatus(reply.payload), 200);
    assert.equal(backend.streams.get('/big-headers'), undefined);
  });

  test('HPACK bomb: a small block that decodes past the limit is refused', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    // One 3000-byte field enters the dynamic table, then 100 one-byte references to it: ~300 KB decoded.
    const parts = [headerBlock(getRequest(authority, '/bomb')), hpackIncremental('x-bomb', 'b'.repeat(3000))];
    for (let i = 0; i < 100; i++) parts.push(hpackIndexed(62));
    attacker.send(headersFrame(1, Buffer.concat(parts), { endStream: true }));
    await attacker.waitFor((f) => (f.type === FrameType.RST_STREAM && f.streamId === 1) || f.type === FrameType.GOAWAY, 3000);
    assert.equal(attacker.rstCode(1) ?? attacker.goaway()?.code, ErrorCode.ENHANCE_YOUR_CALM);
    assert.equal(backend.streams.get('/bomb'), undefined);
  });

  test('large header lists and trailers under the limit pass intact (48 KiB, where Linkerd stopped at 16 KiB)', async () => {
    const reply = await get(bystander, { ':path': '/echo', 'x-large': 'h'.repeat(48 * 1024) });
    assert.equal(reply.status, 200);
    assert.equal((backend.streams.get('/echo') ?? 0) > 0, true);
  });

  test('SETTINGS flood gets GOAWAY(ENHANCE_YOUR_CALM) and a closed connection', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    await flood(attacker, settingsFrame([]), 2000);
    await attacker.waitClosed(5000);
    const goaway = attacker.goaway();
    if (goaway) assert.equal(goaway.code, ErrorCode.ENHANCE_YOUR_CALM);
    assert.match(proxy.logs(), /exceeded a limit reason="SETTINGS flood"/);
  });

  test('a SETTINGS frame with too many entries gets GOAWAY(ENHANCE_YOUR_CALM)', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    attacker.send(settingsFrame(Array.from({ length: 100 }, () => [0x3, 100] as const)));
    await attacker.waitFor((f) => f.type === FrameType.GOAWAY, 3000);
    assert.equal(attacker.goaway()?.code, ErrorCode.ENHANCE_YOUR_CALM);
  });

  test('PING flood gets GOAWAY(ENHANCE_YOUR_CALM) and a closed connection', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    await flood(attacker, pingFrame(), 5000);
    await attacker.waitClosed(5000);
    const goaway = attacker.goaway();
    if (goaway) assert.equal(goaway.code, ErrorCode.ENHANCE_YOUR_CALM);
    assert.match(proxy.logs(), /exceeded a limit reason="PING flood"/);
  });

  test('a PING flood that never reads the acknowledgements closes the connection too', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    attacker.socket.pause();
    for (let i = 0; i < 20000 && attacker.send(pingFrame()); i++);
    attacker.socket.resume();
    await attacker.waitClosed(5000);
  });

  test('empty DATA frame flood closes the connection', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    attacker.send(headersFrame(1, headerBlock([[':method', 'POST'], [':scheme', 'http'], [':authority', authority], [':path', '/empty-data']])));
    for (let i = 0; i < 20000 && !attacker.closed; i++) attacker.send(dataFrame(1, ''));
    await attacker.waitClosed(5000);
  });

  test('WINDOW_UPDATE past 2^31-1 is a connection error', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    attacker.send(Buffer.concat([windowUpdateFrame(0, 0x7fffffff), windowUpdateFrame(0, 0x7fffffff)]));
    await attacker.waitClosed(5000);
    assert.notEqual(attacker.goaway()?.code ?? ErrorCode.FLOW_CONTROL_ERROR, ErrorCode.NO_ERROR);
  });

  test('a request that cannot be forwarded as is (two content-types) gets 400, never reaching the endpoint', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    attacker.send(headersFrame(1, headerBlock([...getRequest(authority, '/two-types'), ['content-type', 'a/b'], ['content-type', 'c/d']]), { endStream: true }));
    const reply = await attacker.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1, 3000);
    assert.equal(staticStatus(reply.payload), 400);
    assert.equal(backend.streams.get('/two-types'), undefined);
  });

  test('malformed requests are stream errors, never forwarded', async () => {
    attacker = await RawH2Client.connect(proxy.outboundPort);
    const p = '/malformed';
    const post = (extra: Array<[string, string]>): Array<[string, string]> => [[':method', 'POST'], [':scheme', 'http'], [':authority', authority], [':path', p], ...extra];
    const cases: Array<[string, Array<[string, string]>]> = [
      ['missing :method', [[':scheme', 'http'], [':authority', authority], [':path', p]]],
      ['missing :path', [[':method', 'GET'], [':scheme', 'http'], [':authority', authority]]],
      ['duplicate :path', [...getRequest(authority, p), [':path', '/other']]],
      ['pseudo-header after a regular one', [[':method', 'GET'], ['x-a', '1'], [':scheme', 'http'], [':authority', authority], [':path', p]]],
      [':status in a request', [...getRequest(authority, p), [':status', '200']]],
      ['unknown pseudo-header', [...getRequest(authority, p), [':foo', 'x']]],
      ['upper-case name', [...getRequest(authority, p), ['X-Upper', '1']]],
      ['connection', [...getRequest(authority, p), ['connection', 'keep-alive']]],
      ['keep-alive', [...getRequest(authority, p), ['keep-alive', '5']]],
      ['upgrade', [...getRequest(authority, p), ['upgrade', 'websocket']]],
      ['transfer-encoding', [...getRequest(authority, p), ['transfer-encoding', 'chunked']]],
      ['te other than trailers', [...getRequest(authority, p), ['te', 'gzip']]],
      ['content-length with END_STREAM on HEADERS', [...getRequest(authority, p), ['content-length', '10']]],
    ];
    cases.forEach(([, fields], i) => attacker!.send(headersFrame(1 + 2 * i, headerBlock(fields), { endStream: true })));
    // content-length that the DATA frames do not match (RFC 9113 §8.1.1).
    const cl = 1 + 2 * cases.length;
    attacker.send(headersFrame(cl, headerBlock(post([['content-length', '10']]))));
    attacker.send(dataFrame(cl, 'abcde', true));
    for (const [i, [name]] of cases.entries()) {
      const id = 1 + 2 * i;
      await attacker.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === id, 3000);
      assert.equal(attacker.rstCode(id), ErrorCode.PROTOCOL_ERROR, name);
    }
    await attacker.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === cl, 3000);
    assert.equal(attacker.rstCode(cl), ErrorCode.PROTOCOL_ERROR, 'content-length mismatch');
    assert.equal(attacker.frames.some((f) => f.type === FrameType.GOAWAY), false, 'stream errors must not close the connection');
    await settle();
    // Only the content-length mismatch can reach the endpoint (its HEADERS were valid), and only as a reset stream.
    assert.ok((backend.streams.get(p) ?? 0) <= (backend.resets.get(p)?.length ?? 0), 'a malformed request was forwarded');
  });
});
