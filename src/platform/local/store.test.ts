// The object store: created/configured/unchanged, cluster IP allocation and immutability, namespaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig } from './config.js';
import { ObjectStore } from './store.js';
import { validateObject, type AppliedObject } from './validate.js';

function applied(raw: unknown): AppliedObject {
  const result = validateObject(raw, 'default');
  if ('errors' in result) throw new Error(result.errors.join('; '));
  return result.object;
}
const service = (name: string, extra: object = {}) => applied({ kind: 'Service', metadata: { name, namespace: 'demo' }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...extra } });
const namespace = applied({ kind: 'Namespace', metadata: { name: 'demo' } });

test('apply creates, reports unchanged and configured, and keeps cluster IPs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new ObjectStore(makeConfig({ stateDir: dir, serviceCidr: '198.19.5.0/24', podCidr: '198.18.5.0/24' }));
  assert.deepEqual(await store.apply([namespace, service('a'), service('b')]), ['created', 'created', 'created']);
  const ip = (name: string) => {
    const o = store.get('Service', 'demo', name);
    return o?.kind === 'Service' ? o.spec.clusterIP : undefined;
  };
  assert.equal(ip('a'), '198.19.5.10');
  assert.equal(ip('b'), '198.19.5.11');
  assert.deepEqual(await store.apply([namespace, service('a')]), ['unchanged', 'unchanged']);
  assert.deepEqual(await store.apply([service('a', { ports: [{ port: 81 }] })]), ['configured']);
  assert.equal(ip('a'), '198.19.5.10');
  assert.equal(store.get('Service', 'demo', 'a')?.metadata.generation, 2);
  await assert.rejects(store.apply([service('a', { clusterIP: '198.19.5.99' })]), /spec\.clusterIP: field is immutable/);
  await assert.rejects(store.apply([service('c', { clusterIP: '198.19.5.11' })]), /already allocated to demo\/b/);
  await assert.rejects(store.apply([service('d', { clusterIP: '10.0.0.1' })]), /not in the service range/);
});

test('objects need their namespace, and deleting a namespace deletes its objects', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new ObjectStore(makeConfig({ stateDir: dir }));
  await assert.rejects(store.apply([service('a')]), /namespace "demo" not found \(apply the Namespace first\)/);
  await store.apply([namespace, service('a')]);
  assert.deepEqual(await store.delete([{ kind: 'Namespace', namespace: undefined, name: 'demo' }]), [true]);
  assert.deepEqual(store.list(), []);
  await assert.rejects(store.delete([{ kind: 'Namespace', namespace: undefined, name: 'default' }]), /cannot be deleted/);
});
