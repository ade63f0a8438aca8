import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALPN_H2, ALPN_HTTP1, ALPN_TRANSPORT, checkPeerIdentity, dnsNames, INBOUND_ALPN } from './context.js';

const ID = 'web.nodevoto.serviceaccount.identity.fathom.cluster.local';

test('ALPN names and the inbound preference order', () => {
  assert.deepEqual([ALPN_H2, ALPN_TRANSPORT, ALPN_HTTP1], ['h2', 'transport.fathom.io/v1', 'http/1.1']);
  assert.deepEqual(INBOUND_ALPN, ['h2', 'transport.fathom.io/v1', 'http/1.1']);
});

const cases: Array<[string, string[]]> = [
  ['', []],
  [`DNS:${ID}`, [ID]],
  ['DNS:a, DNS:b, IP Address:10.0.0.1', ['a', 'b']],
  ['IP Address:10.0.0.1, DNS:a', ['a']],
  ['URI:spiffe://x/y, email:a@b', []],
  // Node quotes (JSON style) any name with special characters; such names are skipped whole.
  [`DNS:"x, DNS:${ID}", DNS:b`, ['b']],
  [`DNS:"x\\", DNS:${ID}"`, []],
  [`DNS:"x\\u002c DNS:${ID}"`, []],
];
for (const [san, want] of cases) test(`dnsNames(${JSON.stringify(san.slice(0, 50))})`, () => assert.deepEqual(dnsNames(san), want));

test('checkPeerIdentity wants an exact DNS SAN, not a wildcard, CN or IP', () => {
  assert.equal(checkPeerIdentity(`DNS:other, DNS:${ID}`, ID), undefined);
  for (const san of ['', 'DNS:*.nodevoto.serviceaccount.identity.fathom.cluster.local', `DNS:${ID}.evil`, `DNS:WEB${ID.slice(3)}`, `IP Address:${ID}`]) {
    const err = checkPeerIdentity(san, ID) as Error & { code?: string };
    assert.ok(err instanceof Error, san);
    assert.equal(err.code, 'EPEERIDENTITY');
    assert.match(err.message, /expected identity web\.nodevoto/);
  }
});
