// LocalPlatform, the controller's view of a state directory: reads, events within a second, token review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformEvent } from '../platform.js';
import { makeConfig } from './config.js';
import { layout, tokenPath } from './layout.js';
import { LocalPlatform } from './platform.js';
import type { PodRecord } from './pod-record.js';
import { writeStatus, type PodStatus } from './pod-status.js';
import { writeRecord } from './pods.js';
import { ObjectStore } from './store.js';
import { syncTokens } from './tokens.js';
import { validateObject, type AppliedObject } from './validate.js';

function applied(raw: unknown): AppliedObject {
  const result = validateObject(raw, 'demo');
  if ('errors' in result) throw new Error(result.errors.join('; '));
  return result.object;
}

function record(name: string, ip: string): PodRecord {
  return {
    namespace: 'demo', name, uid: name, creationTimestamp: new Date().toISOString(), labels: { app: 'web', 'pod-template-hash': 'h' },
    annotations: { 'fathom.io/inject': 'enabled', 'config.fathom.io/opaque-ports': 'nonsense' }, owner: { kind: 'Deployment', name: 'web', uid: 'd' }, templateHash: 'h',
    serviceAccount: 'web', meshed: true, initContainers: [], sidecars: [], containers: [{ name: 'web', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    terminationGracePeriodSeconds: 30, ip, netns: `x-demo.${name}`, hostVeth: 'x-000000',
  };
}

function status(ready: boolean): PodStatus {
  return { phase: 'Running', ready, supervisorPid: 1, startTime: '', initContainers: [], containers: [], updatedAt: '' };
}

test('the platform reads the state directory and turns changes into events within a second', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-local-platform-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = makeConfig({ stateDir: dir });
  for (const d of [layout(dir).pods, layout(dir).status]) mkdirSync(d, { recursive: true });
  await new ObjectStore(config).apply([
    applied({ kind: 'Namespace', metadata: { name: 'demo' } }),
    applied({ kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } }),
  ]);
  writeRecord(dir, record('web-1', '198.18.0.5'));
  writeStatus(dir, 'demo', 'web-1', status(true));

  const platform = new LocalPlatform(dir);
  await platform.start();
  t.after(() => platform.close());
  const events: PlatformEvent[] = [];
  platform.watch((e) => events.push(e));

  assert.equal(platform.getService('demo', 'web')?.clusterIP, '198.19.0.10');
  assert.equal(platform.serviceByClusterIP('198.19.0.10')?.name, 'web');
  const endpoints = platform.getEndpoints('demo', 'web')!;
  assert.deepEqual(endpoints.map((e) => [e.ip, e.port, e.servicePort, e.ready]), [['198.18.0.5', 8080, 80, true]]);
  const pod = platform.podByIP('198.18.0.5')!;
  assert.deepEqual([pod.meshed, pod.proxyInboundPort, pod.serviceAccount, pod.owner, pod.opaquePorts], [true, 4143, 'web', { kind: 'Deployment', name: 'web' }, undefined]);

  const started = Date.now();
  writeRecord(dir, record('web-2', '198.18.0.6'));
  writeStatus(dir, 'demo', 'web-2', status(true));
  await waitFor(() => platform.getEndpoints('demo', 'web')!.length === 2);
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  assert.ok(events.some((e) => e.kind === 'endpoints' && e.name === 'web'));
  assert.ok(events.some((e) => e.kind === 'pod' && e.name === 'web-2' && e.ips.includes('198.18.0.6')));

  writeStatus(dir, 'demo', 'web-1', status(false));
  await waitFor(() => platform.getEndpoints('demo', 'web')!.find((e) => e.ip === '198.18.0.5')?.ready === false);
});

test('tokens: a service account token authenticates, anything else does not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-local-platform-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  syncTokens(dir, [{ namespace: 'demo', serviceAccount: 'web' }]);
  const platform = new LocalPlatform(dir);
  const token = readFileSync(tokenPath(dir, 'demo', 'web'), 'utf8');
  assert.deepEqual(await platform.reviewToken(token), { authenticated: true, namespace: 'demo', serviceAccount: 'web' });
  assert.equal((await platform.reviewToken('forged')).authenticated, false);
});

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
