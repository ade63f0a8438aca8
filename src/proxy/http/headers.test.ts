import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REFUSAL_TABLE } from './errors.js';
import { canonicalContentLength, countHeader, equalsLower, forwardableHeaders, headerValue, MAX_HEADER_FIELDS, requestProblem } from './headers.js';

const raw = (...pairs: string[]) => pairs;

test('forwardableHeaders removes hop-by-hop fields and keeps the rest in case and order', () => {
  const input = raw(
    'Host', 'a.test',
    'X-First', '1',
    'Connection', 'keep-alive',
    'Keep-Alive', 'timeout=5',
    'Proxy-Connection', 'keep-alive',
    'Transfer-Encoding', 'chunked',
    'Upgrade', 'websocket',
    'TE', 'gzip',
    'x-MiXeD', 'v',
    'x-dup', 'a',
    'x-dup', 'b',
  );
  assert.deepEqual(forwardableHeaders(input), ['Host', 'a.test', 'X-First', '1', 'x-MiXeD', 'v', 'x-dup', 'a', 'x-dup', 'b']);
});

test('forwardableHeaders removes every field the Connection header names, in any case and list form', () => {
  const input = raw('Connection', 'X-One ,, x-two', 'connection', 'X-Three', 'x-one', '1', 'X-TWO', '2', 'X-Three', '3', 'X-Four', '4');
  assert.deepEqual(forwardableHeaders(input), ['X-Four', '4']);
});

test('forwardableHeaders keeps Host even when Connection names it', () => {
  assert.deepEqual(forwardableHeaders(raw('Host', 'a.test', 'Connection', 'host, x-a', 'X-A', '1')), ['Host', 'a.test']);
});

test('forwardableHeaders keeps te: trailers (gRPC needs it) and drops other TE values', () => {
  assert.deepEqual(forwardableHeaders(raw('te', 'trailers')), ['te', 'trailers']);
  assert.deepEqual(forwardableHeaders(raw('TE', ' Trailers ')), ['TE', ' Trailers ']);
  assert.deepEqual(forwardableHeaders(raw('te', 'trailers, deflate')), []);
});

test('forwardableHeaders with keepUpgrade keeps Upgrade and sends Connection: Upgrade only', () => {
  const input = raw('Host', 'a', 'Connection', 'Upgrade, X-Hop', 'Upgrade', 'websocket', 'X-Hop', '1', 'Sec-WebSocket-Key', 'k');
  assert.deepEqual(forwardableHeaders(input, true), ['Host', 'a', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'Connection', 'Upgrade']);
  assert.deepEqual(forwardableHeaders(input), ['Host', 'a', 'Sec-WebSocket-Key', 'k']);
});

test('forwardableHeaders drops the named field in any case (inbound: fathom-client-id)', () => {
  assert.deepEqual(forwardableHeaders(raw('Fathom-Client-ID', 'forged', 'A', '1', 'fathom-client-id', 'x'), false, 'fathom-client-id'), ['A', '1']);
});

test('equalsLower folds the case of letters only', () => {
  assert.ok(equalsLower('Keep-Alive', 'keep-alive'));
  assert.ok(equalsLower('TRANSFER-ENCODING', 'transfer-encoding'));
  assert.ok(!equalsLower('keep\ralive', 'keep-alive'), 'CR is not a "-" in another case');
  assert.ok(!equalsLower('te@', 'te`'));
  assert.ok(!equalsLower('Connection ', 'connection'));
  assert.ok(!equalsLower('connectio', 'connection'));
});

test('countHeader and headerValue match names case-insensitively', () => {
  const input = raw('Content-Length', '5', 'content-LENGTH', '6', 'X', '1');
  assert.equal(countHeader(input, 'content-length'), 2);
  assert.equal(headerValue(input, 'content-length'), '5');
  assert.equal(headerValue(input, 'x'), '1');
  assert.equal(headerValue(input, 'y'), undefined);
  assert.equal(countHeader([], 'x'), 0);
});

const H = ['Host', 'a.test'];
const problems: Array<[string, string[], string, keyof typeof REFUSAL_TABLE | undefined]> = [
  ['a plain GET', H, '1.1', undefined],
  ['HTTP/1.0 without Host', [], '1.0', undefined],
  ['Content-Length 0', [...H, 'Content-Length', '0'], '1.1', undefined],
  ['Content-Length 1234567', [...H, 'Content-Length', '1234567'], '1.1', undefined],
  ['chunked', [...H, 'Transfer-Encoding', 'chunked'], '1.1', undefined],
  ['CHUNKED with spaces', [...H, 'Transfer-Encoding', ' CHUNKED '], '1.1', undefined],
  ['two Host fields', [...H, 'host', 'b.test'], '1.1', 'EMULTIPLEHOST'],
  ['HTTP/1.1 without Host', ['X', '1'], '1.1', 'ENOHOST'],
  ['Content-Length 010', [...H, 'Content-Length', '010'], '1.1', 'EBADLENGTH'],
  ['Content-Length 00', [...H, 'Content-Length', '00'], '1.1', 'EBADLENGTH'],
  ['Content-Length +1', [...H, 'Content-Length', '+1'], '1.1', 'EBADLENGTH'],
  ['Content-Length 1e3', [...H, 'Content-Length', '1e3'], '1.1', 'EBADLENGTH'],
  ['Content-Length 17 digits', [...H, 'Content-Length', '12345678901234567'], '1.1', 'EBADLENGTH'],
  ['two Content-Length fields', [...H, 'Content-Length', '5', 'Content-Length', '5'], '1.1', 'EBADLENGTH'],
  ['Transfer-Encoding in HTTP/1.0', [...H, 'Transfer-Encoding', 'chunked'], '1.0', 'ETEHTTP10'],
  ['Transfer-Encoding twice', [...H, 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], '1.1', 'EMULTIPLETE'],
  ['Transfer-Encoding ,chunked', [...H, 'Transfer-Encoding', ',chunked'], '1.1', 'EBADTE'],
  ['Transfer-Encoding gzip, chunked', [...H, 'Transfer-Encoding', 'gzip, chunked'], '1.1', 'EBADTE'],
  ['Transfer-Encoding identity', [...H, 'Transfer-Encoding', 'identity'], '1.1', 'EBADTE'],
  ['an empty field name', [...H, '', 'x'], '1.1', 'EEMPTYNAME'],
  ['HTTP/2.0', H, '2.0', 'EHTTPVERSION'],
  ['HTTP/0.9', H, '0.9', 'EHTTPVERSION'],
  ['too many fields', [...H, ...Array<string>(MAX_HEADER_FIELDS * 2).fill('x')], '1.1', 'ETOOMANYHEADERS'],
  ['exactly the most fields', [...H, ...Array<string>((MAX_HEADER_FIELDS - 1) * 2).fill('x')], '1.1', undefined],
];

for (const [name, headers, version, want] of problems) {
  test(`requestProblem: ${name} → ${want ?? 'forwarded'}`, () => {
    assert.equal(requestProblem(headers, version), want === undefined ? undefined : REFUSAL_TABLE[want]);
  });
}

test('canonicalContentLength strips leading zeros from Content-Length only', () => {
  assert.deepEqual(canonicalContentLength(raw('Content-Length', '010', 'X-Id', '007')), ['Content-Length', '10', 'X-Id', '007']);
  assert.deepEqual(canonicalContentLength(raw('content-length', '0')), ['content-length', '0']);
  assert.deepEqual(canonicalContentLength(raw('content-length', '000')), ['content-length', '0']);
  assert.deepEqual(canonicalContentLength(raw('Content-Length', '1200')), ['Content-Length', '1200']);
});
