import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { generateIdentityKey, privateKeyPem } from './identity.js';
import { IdentityStore, splitPemCertificates } from './store.js';
import { TestCa } from './test-ca.js';

const ID = 'web.nodevoto.serviceaccount.identity.fathom.cluster.local';
const DAY = 24 * 3600 * 1000;
let ca: TestCa;
let other: TestCa;
before(async () => {
  ca = await TestCa.create();
  other = await TestCa.create('identity.other.cluster.local');
});

test('the store refuses trust anchors that are not PEM certificates', () => {
  assert.throws(() => new IdentityStore({ identity: ID, trustAnchorsPem: '' }), { code: 'ETRUSTANCHORS' });
  assert.throws(
    () => new IdentityStore({ identity: ID, trustAnchorsPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }),
    { code: 'ETRUSTANCHORS' },
  );
});

test('update installs a certificate chain: ready, context, expiry, listeners', async () => {
  const store = new IdentityStore({ identity: ID, trustAnchorsPem: ca.trustAnchorPem });
  assert.equal(store.ready, false);
  assert.equal(store.current, undefined);
  const seen: number[] = [];
  const unsubscribe = store.onChange((s) => seen.push(s.certificate!.notAfterMs));
  const issued = await ca.issue(ID);
  store.update(issued.certChainPem, issued.keyPem);
  assert.equal(store.ready, true);
  assert.ok(store.current);
  assert.equal(store.certificate!.leaf.serialNumber, new X509Certificate(issued.certChainPem).serialNumber);
  assert.ok(Math.abs(store.certificate!.notAfterMs - (Date.now() + DAY)) < 5_000);
  assert.deepEqual(seen, [store.certificate!.notAfterMs]);
  const first = store.current;
  const renewed = await ca.issue(ID);
  store.update(renewed.certChainPem, renewed.key); // a KeyObject works as well as PEM
  assert.notEqual(store.current, first);
  assert.equal(seen.length, 2);
  unsubscribe();
  store.update(issued.certChainPem, issued.keyPem);
  assert.equal(seen.length, 2, 'no calls after unsubscribing');
});

test('update refuses a bad certificate and keeps the previous one', async () => {
  const store = new IdentityStore({ identity: ID, trustAnchorsPem: ca.trustAnchorPem });
  const good = await ca.issue(ID);
  store.update(good.certChainPem, good.keyPem);
  const held = store.current;
  const now = Date.now();
  const cases: Array<[string, () => Promise<[string, string]>, RegExp]> = [
    ['another identity', async () => pair(await ca.issue('api.nodevoto.serviceaccount.identity.fathom.cluster.local')), /DNS names are "DNS:api\./],
    ['a wildcard name', async () => pair(await ca.issue(ID, { dnsNames: ['*.nodevoto.serviceaccount.identity.fathom.cluster.local'] })), /DNS names/],
    ['a mismatched key', async () => [(await ca.issue(ID)).certChainPem, privateKeyPem(generateIdentityKey())], /does not match the private key/],
    ['an expired certificate', async () => pair(await ca.issue(ID, { notBefore: new Date(now - 2 * DAY), notAfter: new Date(now - DAY) })), /valid from/],
    ['a not-yet-valid certificate', async () => pair(await ca.issue(ID, { notBefore: new Date(now + DAY) })), /valid from/],
    ['an unknown issuer', async () => pair(await other.issue(ID)), /not issued by the trust anchors/],
    ['a leaf without its issuer', async () => {
      const issued = await ca.issue(ID);
      return [splitPemCertificates(issued.certChainPem)[0]!.toString(), issued.keyPem];
    }, /not issued by the trust anchors/],
    ['no certificate', async () => ['', good.keyPem], /no certificate in the chain/],
    ['a garbled key', async () => [good.certChainPem, 'not a key'], /cannot parse it/],
  ];
  for (const [what, make, why] of cases) {
    const [chain, key] = await make();
    assert.throws(() => store.update(chain, key), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'EIDENTITYCERT', what);
      assert.match(err.message, why, what);
      return true;
    });
    assert.equal(store.current, held, `${what}: the previous certificate stays`);
  }
});

function pair(issued: { certChainPem: string; keyPem: string }): [string, string] {
  return [issued.certChainPem, issued.keyPem];
}
