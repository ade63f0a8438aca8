import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { MemoryPlatform } from '../../platform/memory/memory-platform.js';
import { generateCA } from './ca.js';
import { Issuer } from './issuer.js';
import { CertifyError, IdentityApi } from './service.js';
import { generateP256 } from './x509.js';

const names = { trustDomain: 'cluster.local', controlNamespace: 'fathom' };
const request = { identity: 'web.ns.serviceaccount.identity.fathom.cluster.local', token: Buffer.from('t'), certificateSigningRequest: Buffer.from([1]) };

test('without a loaded issuer every request is UNAVAILABLE', async () => {
  const api = new IdentityApi(new MemoryPlatform(), undefined, names);
  await assert.rejects(api.certify(request), (err: CertifyError) => {
    assert.equal(err.code, status.UNAVAILABLE);
    assert.match(err.message, /issuer is not loaded/);
    return true;
  });
});

test('a leaf never outlives its issuer, and starts and ends with the skew allowance', async () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const ca = await generateCA('cluster.local', now);
  const keys = await generateP256();
  const early = new Issuer(ca, { lifetimeMs: 3600_000, clockSkewMs: 20_000, now: () => now });
  const leaf = await early.issue(request.identity, keys.publicKey);
  assert.equal(leaf.leaf.notBefore.getTime(), now.getTime() - 20_000);
  assert.equal(leaf.validUntil.getTime(), now.getTime() + 3600_000 + 20_000);

  const late = new Issuer(ca, { lifetimeMs: 24 * 3600_000, clockSkewMs: 20_000, now: () => new Date(ca.issuerCert.notAfter.getTime() - 3600_000) });
  const capped = await late.issue(request.identity, keys.publicKey);
  assert.equal(capped.validUntil.getTime(), ca.issuerCert.notAfter.getTime());
  assert.notEqual(capped.leaf.serialNumber, leaf.leaf.serialNumber);
});
