import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTransportHeader, encodeTransportHeader, TRANSPORT_PREAMBLE } from './transport-header.js';

test('round trip, with trailing payload left alone', () => {
  const wire = Buffer.concat([encodeTransportHeader({ port: 6379, sessionProtocol: 'http2' }), Buffer.from('PING\r\n')]);
  const r = decodeTransportHeader(wire);
  assert.ok(typeof r === 'object');
  assert.deepEqual(r.header, { port: 6379, sessionProtocol: 'http2' });
  assert.equal(wire.subarray(r.length).toString(), 'PING\r\n');
});

test('every strict prefix asks for more', () => {
  const wire = encodeTransportHeader({ port: 5432, name: 'db.prod.svc.cluster.local' });
  for (let i = 0; i < wire.length; i++) assert.equal(decodeTransportHeader(wire.subarray(0, i)), 'more', `prefix ${i}`);
});

test('bad input is an error value, never a throw', () => {
  assert.match(decodeTransportHeader(Buffer.from('GET / HTTP/1.1\r\n')) as string, /preamble/);
  const huge = Buffer.concat([TRANSPORT_PREAMBLE, Buffer.from([0, 1, 0, 0])]);
  assert.match(decodeTransportHeader(huge) as string, /too long/);
  const zeroPort = Buffer.concat([TRANSPORT_PREAMBLE, Buffer.from([0, 0, 0, 0])]);
  assert.match(decodeTransportHeader(zeroPort) as string, /invalid port/);
  for (let i = 0; i < 500; i++) {
    const junk = Buffer.concat([TRANSPORT_PREAMBLE, Buffer.from([0, 0, 0, 8]), Buffer.from(Array.from({ length: 8 }, () => Math.floor(Math.random() * 256)))]);
    const r = decodeTransportHeader(junk);
    assert.ok(typeof r === 'string' || typeof r === 'object');
  }
});
