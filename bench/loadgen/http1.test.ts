import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequest, ResponseParser } from './http1.js';

function parse(chunks: string[]): Array<[number, number, boolean]> {
  const out: Array<[number, number, boolean]> = [];
  const p = new ResponseParser((status, bytes, close) => out.push([status, bytes, close]));
  for (const c of chunks) assert.equal(p.feed(Buffer.from(c, 'latin1')), undefined);
  return out;
}

test('content-length responses, back to back and split anywhere', () => {
  const two = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nConnection: close\r\n\r\n';
  const want: Array<[number, number, boolean]> = [
    [200, 5, false],
    [503, 0, true],
  ];
  assert.deepEqual(parse([two]), want);
  for (let cut = 1; cut < two.length; cut++) assert.deepEqual(parse([two.slice(0, cut), two.slice(cut)]), want, `cut at ${cut}`);
});

test('chunked responses with trailers, and 100 Continue before the response', () => {
  const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nx-trailer: 1\r\n\r\n';
  for (let cut = 1; cut < text.length; cut += 3) assert.deepEqual(parse([text.slice(0, cut), text.slice(cut)]), [[200, 19, false]], `cut at ${cut}`);
});

test('garbage is reported, not parsed', () => {
  const p = new ResponseParser(() => assert.fail('no response expected'));
  assert.match(p.feed(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))!, /not an HTTP\/1 response/);
});

test('requests: POST with the payload, or GET without one', () => {
  const post = buildRequest({ host: '127.0.0.1', port: 80, path: '/echo', payloadBytes: 4, connections: 1 }).toString('latin1');
  assert.match(post, /^POST \/echo HTTP\/1\.1\r\nHost: 127\.0\.0\.1:80\r\n.*Content-Length: 4\r\n\r\naaaa$/s);
  const get = buildRequest({ host: '127.0.0.1', port: 80, path: '/', payloadBytes: 0, connections: 1 }).toString('latin1');
  assert.equal(get, 'GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n');
});
