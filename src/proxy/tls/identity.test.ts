import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { buildCsr, generateIdentityKey, privateKeyPem, toPem } from './identity.js';
import { TestCa, x509 } from './test-ca.js';

const ID = 'web.nodevoto.serviceaccount.identity.fathom.cluster.local';

test('generateIdentityKey makes an ECDSA P-256 private key', () => {
  const key = generateIdentityKey();
  assert.equal(key.type, 'private');
  assert.equal(key.asymmetricKeyType, 'ec');
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.match(privateKeyPem(key), /^-----BEGIN PRIVATE KEY-----\n/);
});

test('buildCsr: a signed PKCS#10 request with CN and exactly one DNS SAN = the identity', async () => {
  const key = generateIdentityKey();
  const der = buildCsr(ID, key);
  const csr = await TestCa.parseCsr(der); // parses and verifies the signature independently
  assert.equal(csr.subject, `CN=${ID}`);
  assert.deepEqual(csr.signatureAlgorithm as unknown, { name: 'ECDSA', hash: { name: 'SHA-256' } });
  const san = csr.getExtension('2.5.29.17');
  assert.ok(san instanceof x509.SubjectAlternativeNameExtension, 'the request carries a SubjectAltName extension');
  assert.deepEqual(san.names.toJSON(), [{ type: 'dns', value: ID }]);
  assert.equal(csr.extensions.length, 1);
  const spki = Buffer.from(csr.publicKey.rawData);
  assert.deepEqual(spki, createPublicKey(key).export({ type: 'spki', format: 'der' }));
});

test('buildCsr output is accepted by openssl req -verify', (t) => {
  const pem = toPem(buildCsr(ID, generateIdentityKey()), 'CERTIFICATE REQUEST');
  const run = spawnSync('openssl', ['req', '-noout', '-verify', '-text'], { input: pem, encoding: 'utf8' });
  if (run.error) return t.skip('openssl is not installed');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout + run.stderr, /verify OK/i);
  assert.match(run.stdout, new RegExp(`DNS:${ID.replaceAll('.', '\\.')}`));
});

test('buildCsr refuses names that are not DNS names and keys that are not P-256', () => {
  const key = generateIdentityKey();
  for (const bad of ['', 'Web.ns', 'a..b', '-a.b', 'a b', `${'a'.repeat(64)}.b`, 'a.'.repeat(130) + 'b', 'ünï.code']) {
    assert.throws(() => buildCsr(bad, key), { code: 'EIDENTITY' }, JSON.stringify(bad));
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  assert.throws(() => buildCsr(ID, rsa), { code: 'EIDENTITY' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
  assert.throws(() => buildCsr(ID, p384), { code: 'EIDENTITY' });
  assert.throws(() => buildCsr(ID, createPublicKey(key) as never), { code: 'EIDENTITY' });
});

test('toPem armours DER in 64-column lines that Node parses back', async () => {
  const ca = await TestCa.create();
  const issued = await ca.issue(ID);
  const der = Buffer.from(issued.leaf.rawData);
  const pem = toPem(der);
  const body = pem.split('\n').slice(1, -2);
  assert.ok(body.every((line) => line.length <= 64));
  assert.ok(body.slice(0, -1).every((line) => line.length === 64));
  assert.deepEqual(new X509Certificate(pem).raw, der);
});
