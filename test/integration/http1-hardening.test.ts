// The HTTP/1 attack classes of hardening.md §3 (items 1-11), table-driven: exact bytes from a raw
// socket to the real proxy, in front of a backend that records every byte and request it receives.
// Each case asserts the proxy's answer (status, fathom-proxy-error, then a close), that the backend saw
// no request at all (never a smuggled second one), and that the proxy still serves a normal request.
// Odd but valid requests are forwarded exactly once, and odd responses are re-framed or refused (502).
//
// Who refuses what: Node's parser (llhttp, strict mode) rejects most framing attacks before a request
// exists (`by: 'llhttp'`, answered from the server's clientError handler in http1.ts); the rest pass
// the parser and are refused by requestProblem() in src/proxy/http/headers.ts (`by: 'fathom'`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { validateHeaderValue } from 'node:http';
import { connect } from 'node:net';
import { REFUSAL_TABLE } from '../../src/proxy/http/errors.js';
import { startProxyProcess, type ProxyProcess } from '../helpers/proxy.js';
import { collect, header, LOOPBACK, rawExchange, rawGet, startRawBackend, startRecordingBackend, type RawResponse, type RawResult, type RecordingBackend } from '../helpers/raw.js';

type RefusalCode = keyof typeof REFUSAL_TABLE;

interface Attack {
  /** The hardening.md §3 item and a short description. */
  readonly name: string;
  readonly bytes: string | string[];
  readonly refusal: RefusalCode;
  readonly by: 'llhttp' | 'fathom';
  /** No smuggled request is appended (the case is about size, not framing). */
  readonly alone?: boolean;
}

const HOST = 'Host: fathom.test\r\n';
/** Appended to every framing attack: if it ever reaches the backend, a request was smuggled. */
const SMUGGLED = `GET /smuggled HTTP/1.1\r\n${HOST}\r\n`;
const chunk = (data: string) => `${Buffer.byteLength(data, 'latin1').toString(16)}\r\n${data}\r\n`;
const post = (headers: string, body = '') => `POST /attack HTTP/1.1\r\n${HOST}${headers}\r\n${body}`;
const get = (headers: string) => `GET /attack HTTP/1.1\r\n${HOST}${headers}\r\n`;

const ATTACKS: readonly Attack[] = [
  // 1. CL.TE / TE.CL
  { name: '1 CL.TE: Content-Length before Transfer-Encoding', bytes: post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\nG'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '1 TE.CL: Transfer-Encoding before Content-Length', bytes: post('Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', '5c\r\nGPOST /x HTTP/1.1\r\n\r\n0\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  // 2. Duplicate or invalid Content-Length
  { name: '2 two different Content-Length values', bytes: post('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '2 two equal Content-Length values', bytes: post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '2 Content-Length: 1 2', bytes: post('Content-Length: 1 2\r\n', 'hello world!'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '2 Content-Length: +1', bytes: post('Content-Length: +1\r\n', 'h'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '2 Content-Length: 0x10', bytes: post('Content-Length: 0x10\r\n', '0123456789abcdef'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '2 Content-Length: 010 (octal to some parsers)', bytes: post('Content-Length: 010\r\n', '0123456789'), refusal: 'EBADLENGTH', by: 'fathom' },
  { name: '2 Content-Length: 1Z', bytes: post('Content-Length: 1Z\r\n', 'h'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '2 empty Content-Length', bytes: post('Content-Length: \r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '2 Content-Length list: 5, 5', bytes: post('Content-Length: 5, 5\r\n', 'hello'), refusal: 'EMALFORMED', by: 'llhttp' },
  // 3. Whitespace before the colon or before the first field
  { name: '3 space before colon', bytes: post('Content-Length : 5\r\n', 'hello'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '3 tab before the first field', bytes: `POST /attack HTTP/1.1\r\n\tContent-Length: 5\r\n${HOST}\r\nhello`, refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '3 space before the first field', bytes: `POST /attack HTTP/1.1\r\n Content-Length: 5\r\n${HOST}\r\nhello`, refusal: 'EMALFORMED', by: 'llhttp' },
  // 4. Transfer-Encoding obfuscation
  { name: '4 Transfer-Encoding: ,chunked', bytes: post('Transfer-Encoding: ,chunked\r\n', '0\r\n\r\n'), refusal: 'EBADTE', by: 'fathom' },
  { name: '4 Transfer-Encoding: chunked, identity', bytes: post('Transfer-Encoding: chunked, identity\r\n', '0\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '4 Transfer-Encoding: xchunked', bytes: post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n'), refusal: 'EBADTE', by: 'fathom' },
  { name: '4 Transfer-Encoding: gzip, chunked', bytes: post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'), refusal: 'EBADTE', by: 'fathom' },
  { name: '4 Transfer-Encoding split over two fields', bytes: post('Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), refusal: 'EMULTIPLETE', by: 'fathom' },
  { name: '4 Transfer-Encoding: chunked twice', bytes: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '4 Transfer-Encoding folded over two lines', bytes: post('Transfer-Encoding: identity\r\n chunked\r\n', '0\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '4 Transfer-Encoding in an HTTP/1.0 request', bytes: `POST /attack HTTP/1.0\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, refusal: 'ETEHTTP10', by: 'fathom' },
  // 5. obs-fold
  { name: '5 obs-fold in a field value', bytes: get('X-Folded: a\r\n b\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  // 6. Bare CR / LF
  { name: '6 bare LF line endings', bytes: `GET /attack HTTP/1.1\nHost: fathom.test\n\n`, refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '6 bare LF inside the header block', bytes: `GET /attack HTTP/1.1\r\nHost: fathom.test\nX-A: b\r\n\r\n`, refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '6 bare CR inside the header block', bytes: `GET /attack HTTP/1.1\r\nHost: fathom.test\rX-A: b\r\n\r\n`, refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '6 \\r\\n\\rX ends the header block (CVE-2025-23167)', bytes: `GET /attack HTTP/1.1\r\n${HOST}\rX-A: b\r\n\r\n`, refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '6 bare CR in a chunk-size line', bytes: post('Transfer-Encoding: chunked\r\n', '5\r\r;ABCD\r\n0\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  // 7. Empty field name
  { name: '7 empty field name', bytes: get(':\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '7 empty field name with a value', bytes: get(': x\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  // 8. Characters that could inject headers toward the endpoint
  { name: '8 NUL in a field value', bytes: get('X-A: a\x00b\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '8 control character in a field value', bytes: get('X-A: a\x01b\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  // 9. Chunk-size abuse
  { name: '9 chunk size -0x0', bytes: post('Transfer-Encoding: chunked\r\n', '-0x0\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '9 chunk size 0_2e', bytes: post('Transfer-Encoding: chunked\r\n', '0_2e\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '9 chunk size 0x5', bytes: post('Transfer-Encoding: chunked\r\n', '0x5\r\nhello\r\n0\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '9 chunk size overflowing 64 bits', bytes: post('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffff\r\n\r\n'), refusal: 'EMALFORMED', by: 'llhttp' },
  { name: '9 chunk extension of 40 KiB (CVE-2024-22019)', bytes: [post('Transfer-Encoding: chunked\r\n'), `5;${'e'.repeat(40 * 1024)}\r\nhello\r\n0\r\n\r\n`], refusal: 'EMALFORMED', by: 'llhttp', alone: true },
  // 10. Oversized heads
  { name: '10 one 70 KiB header', bytes: get(`X-Big: ${'a'.repeat(70 * 1024)}\r\n`), refusal: 'EHEADERSTOOLARGE', by: 'llhttp', alone: true },
  { name: '10 10,000 small headers', bytes: get('a: b\r\n'.repeat(10_000)), refusal: 'ETOOMANYHEADERS', by: 'fathom', alone: true },
  { name: '10 a 70 KiB URI', bytes: `GET /${'u'.repeat(70 * 1024)} HTTP/1.1\r\n${HOST}\r\n`, refusal: 'EHEADERSTOOLARGE', by: 'llhttp', alone: true },
  // Host and version
  { name: 'multiple Host headers', bytes: get('Host: other.test\r\n'), refusal: 'EMULTIPLEHOST', by: 'fathom' },
  { name: 'HTTP/1.1 without Host', bytes: 'GET /attack HTTP/1.1\r\nX-A: b\r\n\r\n', refusal: 'ENOHOST', by: 'fathom' },
  { name: 'HTTP/2.0 on an HTTP/1 request line', bytes: `GET /attack HTTP/2.0\r\n${HOST}\r\n`, refusal: 'EHTTPVERSION', by: 'fathom' },
  { name: 'HTTP/1.2', bytes: `GET /attack HTTP/1.2\r\n${HOST}\r\n`, refusal: 'EMALFORMED', by: 'llhttp' },
  // Node leaves the body of an Upgrade request unparsed: a chunked one would be forwarded raw.
  {
    name: '4 Upgrade request with a chunked body',
    bytes: `GET /ws HTTP/1.1\r\n${HOST}Connection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n`,
    refusal: 'EBADTE',
    by: 'fathom',
    alone: true,
  },
];

/** Requests that look odd but are valid: forwarded exactly once, unchanged where it matters. */
const ACCEPTED: ReadonlyArray<{ name: string; bytes: string; url: string; check?: (headers: string[], body: string) => void }> = [
  { name: 'a 16 KiB URI arrives intact (longer than the detect buffer)', bytes: `GET /${'u'.repeat(16 * 1024)} HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n`, url: `/${'u'.repeat(16 * 1024)}` },
  {
    name: 'Transfer-Encoding: CHUNKED is chunked',
    bytes: `POST /chunked HTTP/1.1\r\n${HOST}Transfer-Encoding: CHUNKED\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    url: '/chunked',
    check: (_h, body) => assert.equal(body, 'hello'),
  },
  {
    name: 'obs-text in a value passes byte for byte',
    bytes: `GET /obs-text HTTP/1.1\r\n${HOST}X-Name: caf\xe9\r\nConnection: close\r\n\r\n`,
    url: '/obs-text',
    check: (h) => assert.equal(header(h, 'x-name'), 'caf\xe9'),
  },
  ...['GET', 'DELETE', 'OPTIONS'].map((method) => ({
    // Node frames a body without Content-Length as chunked only for some methods: sent unframed, this
    // body would be the endpoint's next request.
    name: `${method} with a chunked body is forwarded chunked, its body never read as a request`,
    bytes: `${method} /with-body HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n`,
    url: '/with-body',
    check: (h: string[], body: string) => {
      assert.equal(header(h, 'transfer-encoding'), 'chunked');
      assert.equal(body, SMUGGLED);
    },
  })),
  {
    name: 'a request pipelined behind Connection: close is ignored (RFC 9112 §9.6)',
    bytes: `GET /closing HTTP/1.1\r\n${HOST}Connection: close\r\n\r\n${SMUGGLED}`,
    url: '/closing',
  },
];

const SAFE_VALUE = /^[\x20-\x7e]*$/;
const REASONS: ReadonlySet<string> = new Set(Object.values(REFUSAL_TABLE).map((r) => r.reason));

describe('HTTP/1 hardening (hardening.md §3)', () => {
  let backend: RecordingBackend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startRecordingBackend();
    proxy = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `${LOOPBACK}:${backend.port}`, FATHOM_PROXY_HEADERS_TIMEOUT: '1s' });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  /** The proxy still answers an ordinary request, through the same backend. */
  async function assertHealthy(): Promise<void> {
    const res = await rawGet(proxy.outboundPort, '/healthy');
    assert.equal(res.status, 200, 'the proxy serves a normal request afterwards');
  }

  /** Our refusal: the expected status and reason, only safe text in every field, and a close. */
  function assertRefused(res: RawResult, code: RefusalCode): void {
    const want = REFUSAL_TABLE[code];
    assert.ok(!res.timedOut, `no answer or close: got ${JSON.stringify(res.data.toString('latin1').slice(0, 200))}`);
    assert.ok(res.closed, 'the proxy closes the connection');
    assert.equal(res.responses.length, 1, `exactly one response, got ${JSON.stringify(res.data.toString('latin1').slice(0, 400))}`);
    const r = res.responses[0]!;
    assert.equal(r.status, want.status);
    assert.equal(header(r.rawHeaders, 'fathom-proxy-error'), want.reason);
    for (let i = 0; i < r.rawHeaders.length; i += 2) {
      assert.match(r.rawHeaders[i + 1]!, SAFE_VALUE);
      assert.doesNotThrow(() => validateHeaderValue(r.rawHeaders[i]!, r.rawHeaders[i + 1]!));
    }
    assert.ok(REASONS.has(want.reason));
  }

  for (const attack of ATTACKS) {
    test(`${attack.name}: ${REFUSAL_TABLE[attack.refusal].status} (${attack.by})`, async () => {
      const requestsBefore = backend.requests.length;
      const payload = Array.isArray(attack.bytes) ? attack.bytes : attack.alone ? attack.bytes : attack.bytes + SMUGGLED;
      const res = await rawExchange(proxy.outboundPort, Array.isArray(payload) ? payload : Buffer.from(payload, 'latin1'));
      assertRefused(res, attack.refusal);
      await assertHealthy();
      const reached = backend.requests.slice(requestsBefore).filter((r) => r.url !== '/healthy');
      assert.deepEqual(reached.map((r) => `${r.method} ${r.url}`), [], 'the backend saw no request');
      assert.ok(!backend.received().some((bytes) => bytes.includes('/smuggled')), 'nothing smuggled reached the backend');
    });
  }

  for (const ok of ACCEPTED) {
    test(`accepted: ${ok.name}`, async () => {
      const requestsBefore = backend.requests.length;
      const res = await rawExchange(proxy.outboundPort, Buffer.from(ok.bytes, 'latin1'));
      assert.ok(res.closed && res.responses.length === 1, `one response then a close: ${res.data.toString('latin1').slice(0, 200)}`);
      assert.equal(res.responses[0]!.status, 200);
      const reached = backend.requests.slice(requestsBefore);
      assert.deepEqual(reached.map((r) => r.url), [ok.url], 'exactly one request reached the backend');
      ok.check?.(reached[0]!.rawHeaders, reached[0]!.body.toString('latin1'));
      assert.ok(!backend.requests.some((r) => r.url === '/smuggled'), 'no smuggled request reached the backend');
    });
  }

  test('11 slowloris: a head sent a line at a time is cut off at the headers timeout with 408', async () => {
    const requestsBefore = backend.requests.length;
    const socket = connect({ host: LOOPBACK, port: proxy.outboundPort });
    await once(socket, 'connect');
    const start = Date.now();
    const answer = collect(socket, `GET /slow HTTP/1.1\r\n${HOST}`, { timeoutMs: 8000 });
    let closed = false;
    socket.once('close', () => (closed = true));
    // One more header line every 100 ms, for at most 6 s, until the proxy gives up on us.
    for (let i = 0; i < 60 && !closed && socket.writable; i++) {
      socket.write(`X-Drip-${i}: a\r\n`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await answer;
    const elapsed = Date.now() - start;
    assertRefused(res, 'EHEADERSTIMEOUT');
    assert.ok(elapsed >= 900 && elapsed < 5000, `cut off after ${elapsed} ms with a 1 s headers timeout`);
    assert.equal(backend.requests.length, requestsBefore, 'the backend saw no request');
    await assertHealthy();
  });
});

/** Responses from the endpoint are framed by the proxy's own parser and re-framed toward the client. */
const RESPONSES: ReadonlyArray<{ name: string; bytes: string; check: (r: RawResponse) => void }> = [
  {
    name: 'Content-Length with Transfer-Encoding: 502, never two framings',
    bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    check: (r) => assert.equal(r.status, 502),
  },
  {
    name: 'two Content-Length values: 502',
    bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello',
    check: (r) => assert.equal(r.status, 502),
  },
  {
    name: 'Content-Length: 010 reaches the client as 10',
    bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 010\r\n\r\n0123456789',
    check: (r) => {
      assert.equal(header(r.rawHeaders, 'content-length'), '10');
      assert.equal(r.body.toString(), '0123456789');
    },
  },
  {
    name: 'a body delimited by the close is re-framed as chunked',
    bytes: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the end',
    check: (r) => {
      assert.equal(header(r.rawHeaders, 'transfer-encoding'), 'chunked');
      assert.equal(r.body.toString(), 'until the end');
    },
  },
  {
    name: '3000 header fields all arrive (Node alone would drop those past 2000)',
    bytes: `HTTP/1.1 200 OK\r\n${Array.from({ length: 3000 }, (_, i) => `x-${i}: ${i}\r\n`).join('')}Content-Length: 2\r\n\r\nok`,
    check: (r) => {
      assert.equal(r.rawHeaders.filter((_, i) => i % 2 === 0 && r.rawHeaders[i]!.startsWith('x-')).length, 3000);
      assert.equal(header(r.rawHeaders, 'x-2999'), '2999');
      assert.equal(r.body.toString(), 'ok');
    },
  },
];

describe('HTTP/1 responses from the endpoint', () => {
  for (const c of RESPONSES) {
    test(c.name, async (t) => {
      const backend = await startRawBackend((socket) => socket.end(c.bytes));
      const proxy = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `${LOOPBACK}:${backend.port}` });
      t.after(async () => {
        await proxy.stop();
        await backend.close();
      });
      const res = await rawExchange(proxy.outboundPort, `GET / HTTP/1.1\r\n${HOST}\r\n`, { responses: 1 });
      assert.equal(res.responses.length, 1, res.data.toString('latin1').slice(0, 200));
      c.check(res.responses[0]!);
    });
  }
});
