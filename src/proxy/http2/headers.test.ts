import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sensitiveHeaders, type IncomingHttpHeaders } from 'node:http2';
import { forwardedFields, grpcStatusOf, isGrpc, upstreamRequestHeaders } from './headers.js';

const pseudo = [':method', 'GET', ':scheme', 'http', ':authority', 'web:80', ':path', '/'];
const none: IncomingHttpHeaders = {};

test('upstreamRequestHeaders keeps pseudo-headers, order and repeated fields', () => {
  const r = upstreamRequestHeaders([...pseudo, 'cookie', 'a=1', 'x-b', '2', 'cookie', 'c=3', 'te', 'trailers'], none);
  assert.ok(!('problem' in r));
  assert.deepEqual(Object.entries(r.headers), [
    [':method', 'GET'], [':scheme', 'http'], [':authority', 'web:80'], [':path', '/'], ['cookie', ['a=1', 'c=3']], ['x-b', '2'], ['te', 'trailers'],
  ]);
  assert.equal(r.authority, 'web:80');
});

test('upstreamRequestHeaders turns a lone host into :authority', () => {
  const r = upstreamRequestHeaders([':method', 'GET', ':scheme', 'http', ':path', '/', 'host', 'web:80'], none);
  assert.ok(!('problem' in r));
  assert.equal(r.headers[':authority'], 'web:80');
  assert.equal(r.headers.host, undefined);
});

const refused: Array<[string, string[], RegExp]> = [
  ['connection', [...pseudo, 'connection', 'close'], /connection-specific header connection/],
  ['keep-alive', [...pseudo, 'keep-alive', '5'], /keep-alive/],
  ['transfer-encoding', [...pseudo, 'transfer-encoding', 'chunked'], /transfer-encoding/],
  ['upgrade', [...pseudo, 'upgrade', 'h2c'], /upgrade/],
  ['te: gzip', [...pseudo, 'te', 'gzip'], /te other than/],
  [':protocol', [...pseudo, ':protocol', 'websocket'], /:protocol/],
  [':status', [...pseudo, ':status', '200'], /:status/],
  ['host differs from :authority', [...pseudo, 'host', 'evil:80'], /host header differs/],
];
for (const [name, raw, want] of refused) {
  test(`upstreamRequestHeaders refuses ${name}`, () => {
    const r = upstreamRequestHeaders(raw, none);
    assert.ok('problem' in r);
    assert.match(r.problem, want);
  });
}

test('a host equal to :authority (any case) is dropped, not refused', () => {
  const r = upstreamRequestHeaders([...pseudo, 'host', 'WEB:80'], none);
  assert.ok(!('problem' in r));
  assert.equal(r.headers.host, undefined);
});

test('never-indexed marking is kept', () => {
  const received = { [sensitiveHeaders]: ['authorization', 'authorization'] } as unknown as IncomingHttpHeaders;
  const r = upstreamRequestHeaders([...pseudo, 'authorization', 'secret'], received);
  assert.ok(!('problem' in r));
  assert.deepEqual((r.headers as Record<symbol, unknown>)[sensitiveHeaders], ['authorization']);
});

test('forwardedFields keeps :status and end-to-end fields, drops connection-specific ones', () => {
  const out = forwardedFields([':status', '200', 'content-type', 'text/plain', 'connection', 'close', 'set-cookie', 'a', 'set-cookie', 'b', 'te', 'x'], none);
  assert.deepEqual(out, { ':status': '200', 'content-type': 'text/plain', 'set-cookie': ['a', 'b'] });
});

test('isGrpc and grpcStatusOf', () => {
  assert.equal(isGrpc({ 'content-type': 'application/grpc' }), true);
  assert.equal(isGrpc({ 'content-type': 'application/grpc+proto' }), true);
  assert.equal(isGrpc({ 'content-type': 'application/json' }), false);
  assert.equal(isGrpc({}), false);
  assert.equal(grpcStatusOf({ 'grpc-status': '14' }), 14);
  assert.equal(grpcStatusOf({ 'grpc-status': 'x' }), undefined);
  assert.equal(grpcStatusOf({ 'grpc-status': '1234' }), undefined);
  assert.equal(grpcStatusOf(undefined), undefined);
});
