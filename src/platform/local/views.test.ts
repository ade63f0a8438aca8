// What `fathom get` shows: kubectl's AGE format, the STATUS column through a pod's life, READY and RESTARTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { age, podRow, podStatusText } from './views.js';
import type { PodRecord } from './pod-record.js';
import type { ContainerStatus, PodStatus } from './pod-status.js';
import type { PodView } from './snapshot.js';

test('age reads like kubectl', () => {
  const now = Date.parse('2026-01-10T00:00:00Z');
  const ago = (s: number) => new Date(now - s * 1000).toISOString();
  const cases: [number, string][] = [[5, '5s'], [119, '119s'], [200, '3m20s'], [600, '10m'], [3 * 3600 + 60, '3h1m'], [20 * 3600, '20h'], [3 * 86400 + 4 * 3600, '3d4h'], [12 * 86400, '12d']];
  for (const [seconds, text] of cases) assert.equal(age(ago(seconds), now), text, `${seconds}s`);
});

const record = { name: 'web-abc-12345', namespace: 'demo', ip: '198.18.0.5', creationTimestamp: '2026-01-01T00:00:00Z', initContainers: [{ name: 'fathom-init' }], sidecars: [{ name: 'fathom-proxy' }], containers: [{ name: 'web' }], meshed: true } as unknown as PodRecord;
const c = (name: string, state: ContainerStatus['state'], extra: Partial<ContainerStatus> = {}): ContainerStatus => ({ name, state, ready: false, restartCount: 0, ...extra });
function view(status: Partial<PodStatus> | undefined, terminating = false): PodView {
  const full = status && ({ phase: 'Running', ready: false, supervisorPid: 1, startTime: '', initContainers: [], containers: [], updatedAt: '', ...status } as PodStatus);
  return { record, status: full, terminating, ready: false };
}

test('the STATUS column follows the pod through its life', () => {
  assert.equal(podStatusText(view(undefined)), 'ContainerCreating');
  assert.equal(podStatusText(view({ phase: 'Pending', initContainers: [c('fathom-init', 'running')] })), 'Init:0/1');
  assert.equal(podStatusText(view({ phase: 'Pending', initContainers: [c('fathom-init', 'waiting', { reason: 'CrashLoopBackOff', restartCount: 2 })] })), 'Init:CrashLoopBackOff');
  const initDone = [c('fathom-init', 'terminated', { lastExitCode: 0, reason: 'Completed' })];
  assert.equal(podStatusText(view({ phase: 'Pending', initContainers: initDone, containers: [c('fathom-proxy', 'running'), c('web', 'waiting', { reason: 'PodInitializing' })] })), 'PodInitializing');
  assert.equal(podStatusText(view({ initContainers: initDone, containers: [c('fathom-proxy', 'running'), c('web', 'waiting', { reason: 'CrashLoopBackOff', restartCount: 3 })] })), 'CrashLoopBackOff');
  assert.equal(podStatusText(view({ initContainers: initDone, containers: [c('fathom-proxy', 'running'), c('web', 'running')] })), 'Running');
  assert.equal(podStatusText(view({}, true)), 'Terminating');
});

test('READY counts the proxy and RESTARTS sums the containers', () => {
  const row = podRow(view({ containers: [c('fathom-proxy', 'running', { ready: true }), c('web', 'running', { ready: true, restartCount: 2 })] }), Date.parse('2026-01-01T00:00:30Z'));
  assert.deepEqual(row, { namespace: 'demo', name: 'web-abc-12345', ready: '2/2', status: 'Running', restarts: 2, age: '30s', ip: '198.18.0.5', meshed: true });
});
