// Deployment rollouts as plans: create, scale down (not-ready first), surge then drain on a new template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRollout } from './rollout.js';
import type { PodRecord } from './pod-record.js';
import type { PodView } from './snapshot.js';

let clock = 0;
function pod(name: string, hash: string, ready: boolean): PodView {
  const record = { name, templateHash: hash, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString() } as PodRecord;
  return { record, status: undefined, terminating: false, ready };
}
const names = (pods: readonly PodView[]) => pods.map((p) => p.record.name).sort();

test('a new deployment creates its replicas', () => {
  assert.deepEqual(planRollout(3, 'h1', []), { create: 3, remove: [] });
});

test('scaling down removes not-ready pods first, then the newest', () => {
  const pods = [pod('a', 'h1', true), pod('b', 'h1', false), pod('c', 'h1', true), pod('d', 'h1', true)];
  const plan = planRollout(2, 'h1', pods);
  assert.equal(plan.create, 0);
  assert.deepEqual(names(plan.remove), ['b', 'd']);
});

test('a changed template surges new pods and drains old ones only as new ones get ready', () => {
  const old = [pod('o1', 'h1', true), pod('o2', 'h1', true)];
  assert.deepEqual(planRollout(2, 'h2', old), { create: 2, remove: [] });
  const oneReady = [...old, pod('n1', 'h2', true), pod('n2', 'h2', false)];
  const plan = planRollout(2, 'h2', oneReady);
  assert.equal(plan.create, 0);
  assert.equal(plan.remove.length, 1);
  assert.ok(plan.remove[0]!.record.name.startsWith('o'));
  const allReady = [...old, pod('n3', 'h2', true), pod('n4', 'h2', true)];
  assert.deepEqual(names(planRollout(2, 'h2', allReady).remove), ['o1', 'o2']);
});

test('zero replicas removes everything', () => {
  assert.deepEqual(names(planRollout(0, 'h2', [pod('a', 'h1', true), pod('b', 'h2', true)]).remove), ['a', 'b']);
});
