import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildIdentityName, identityName, parseIdentityName } from './identity-name.js';

test('identityName follows Linkerd with the fathom control-plane namespace', () => {
  assert.equal(identityName('web', 'nodevoto', 'cluster.local'), 'web.nodevoto.serviceaccount.identity.fathom.cluster.local');
  assert.equal(identityName('default', 'ns', 'example.org', 'mesh'), 'default.ns.serviceaccount.identity.mesh.example.org');
});

test('parseIdentityName round-trips, with multi-label trust domains', () => {
  assert.deepEqual(parseIdentityName('web.nodevoto.serviceaccount.identity.fathom.cluster.local'), {
    serviceAccount: 'web',
    namespace: 'nodevoto',
    controlNamespace: 'fathom',
    trustDomain: 'cluster.local',
  });
  assert.deepEqual(parseIdentityName('a-1.b.serviceaccount.identity.c.td'), {
    serviceAccount: 'a-1',
    namespace: 'b',
    controlNamespace: 'c',
    trustDomain: 'td',
  });
});

const bad: Array<[string, RegExp]> = [
  ['', /expected <serviceaccount>/],
  ['web.nodevoto.cluster.local', /expected <serviceaccount>/],
  ['web.nodevoto.sa.identity.fathom.cluster.local', /"\.serviceaccount\.identity\."/],
  ['Web.nodevoto.serviceaccount.identity.fathom.cluster.local', /service account "Web" is not a DNS-1123 label/],
  ['web.-ns.serviceaccount.identity.fathom.cluster.local', /namespace "-ns"/],
  ['web.ns-.serviceaccount.identity.fathom.cluster.local', /namespace "ns-"/],
  ['web..serviceaccount.identity.fathom.cluster.local', /namespace is empty/],
  ['web.ns.serviceaccount.identity.fa_thom.cluster.local', /control-plane namespace/],
  ['web.ns.serviceaccount.identity.fathom.cluster..local', /trust domain "cluster\.\.local": label is empty/],
  [`${'a'.repeat(64)}.ns.serviceaccount.identity.fathom.cluster.local`, /longer than 63/],
  [`web.ns.serviceaccount.identity.fathom.${'a.'.repeat(120)}b`, /longer than 253/],
];
for (const [name, why] of bad) {
  test(`parseIdentityName rejects ${JSON.stringify(name.slice(0, 60))}`, () => {
    const got = parseIdentityName(name);
    assert.ok(got instanceof Error, 'expected an error value');
    assert.match(got.message, why);
  });
}

test('buildIdentityName validates each part', () => {
  const parts = { serviceAccount: 'web', namespace: 'nodevoto', controlNamespace: 'fathom', trustDomain: 'cluster.local' };
  assert.equal(buildIdentityName(parts), 'web.nodevoto.serviceaccount.identity.fathom.cluster.local');
  const err = buildIdentityName({ ...parts, namespace: 'Node_Voto' });
  assert.ok(err instanceof Error);
  assert.match(err.message, /namespace "Node_Voto"/);
  assert.ok(buildIdentityName({ ...parts, trustDomain: '' }) instanceof Error);
});
