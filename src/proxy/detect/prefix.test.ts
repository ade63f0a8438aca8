import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyPrefix } from './prefix.js';
import { parseClientHello } from './tls-hello.js';

const cases: Array<[string, Buffer, string]> = [
  ['empty', Buffer.alloc(0), 'more'],
  ['h2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 'h2'],
  ['h2 preface partial', Buffer.from('PRI * HTTP/2'), 'more'],
  ['GET request line', Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 'http1'],
  ['POST partial', Buffer.from('POST /upload HT'), 'more'],
  ['HTTP/1.0', Buffer.from('HEAD /x HTTP/1.0\r\n'), 'http1'],
  ['custom method', Buffer.from('PROPFIND /dav HTTP/1.1\r\n'), 'http1'],
  ['bare LF request line still goes to the HTTP parser', Buffer.from('GET / HTTP/1.1\nHost: a\n\n'), 'http1'],
  ['method only', Buffer.from('GET'), 'more'],
  ['redis inline', Buffer.from('PING\r\n'), 'opaque'],
  ['redis RESP', Buffer.from('*1\r\n$4\r\nPING\r\n'), 'opaque'],
  ['binary', Buffer.from([0x00, 0x01, 0x02, 0xff]), 'opaque'],
  ['line without HTTP version', Buffer.from('hello world\n'), 'opaque'],
  ['TLS handshake record', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x10]), 'tls'],
  ['TLS short', Buffer.from([0x16, 0x03]), 'more'],
  ['0x16 not TLS', Buffer.from([0x16, 0x09, 0x01]), 'opaque'],
  ['long method is not HTTP', Buffer.from('A'.repeat(25) + ' / HTTP/1.1\r\n'), 'opaque'],
  ['non-ascii in request line', Buffer.from('GET /\x01\x02'), 'opaque'],
  ['1 KiB of letters without a space', Buffer.from('A'.repeat(1024)), 'opaque'],
  // A request line longer than the detect buffer is still HTTP, however the reads split it.
  ['long URI, first KiB only', Buffer.from('GET /' + 'a'.repeat(2000)).subarray(0, 1024), 'http1'],
  ['long URI, whole line', Buffer.from('GET /' + 'a'.repeat(2000) + ' HTTP/1.1\r\n'), 'http1'],
  ['long line of an unknown method', Buffer.from('FETCH /' + 'a'.repeat(2000)), 'opaque'],
  ['long line with a control byte', Buffer.from('GET /' + 'a'.repeat(500) + '\x01' + 'a'.repeat(600)), 'opaque'],
];

for (const [name, input, want] of cases) {
  test(`classifyPrefix: ${name}`, () => assert.equal(classifyPrefix(input), want));
}

test('classifyPrefix never throws on random bytes', () => {
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.alloc(Math.floor(Math.random() * 64));
    for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(Math.random() * 256);
    assert.ok(['h2', 'http1', 'tls', 'opaque', 'more'].includes(classifyPrefix(buf)));
    const hello = parseClientHello(Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), buf]));
    assert.ok(hello === 'more' || hello === 'invalid' || typeof hello === 'object');
  }
});

/** Builds a minimal ClientHello record carrying `sni` (or none). */
export function clientHello(sni?: string): Buffer {
  const exts: Buffer[] = [];
  if (sni !== undefined) {
    const name = Buffer.from(sni, 'latin1');
    const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name]);
    const list = Buffer.concat([u16(entry.length), entry]);
    exts.push(Buffer.concat([u16(0), u16(list.length), list]));
  }
  exts.push(Buffer.concat([u16(0x0010), u16(0)])); // an unrelated (empty) extension after it
  const extBlock = Buffer.concat(exts);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), Buffer.alloc(32, 7), Buffer.from([0]),
    u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]), u16(extBlock.length), extBlock,
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(hs.length), hs]);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

test('parseClientHello reads the SNI', () => {
  assert.deepEqual(parseClientHello(clientHello('Web.Nodevoto.serviceaccount.identity.fathom.cluster.local')), {
    sni: 'web.nodevoto.serviceaccount.identity.fathom.cluster.local',
  });
});
test('parseClientHello without SNI', () => assert.deepEqual(parseClientHello(clientHello()), { sni: undefined }));
test('parseClientHello wants more on a partial record', () => {
  const full = clientHello('a.b');
  assert.equal(parseClientHello(full.subarray(0, full.length - 3)), 'more');
});
test('parseClientHello rejects a bad server name', () => assert.equal(parseClientHello(clientHello('bad name\x00')), 'invalid'));
