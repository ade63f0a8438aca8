import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlatformEvent } from '../platform.js';
import { MemoryPlatform } from './memory-platform.js';

function recorder(platform: MemoryPlatform): PlatformEvent[] {
  const events: PlatformEvent[] = [];
  platform.watch((e) => events.push(e));
  return events;
}

const svc = { namespace: 'ns', name: 'web', clusterIP: '198.19.0.1', ports: [{ name: 'http', port: 80, targetPort: 'http' }], selector: { app: 'web' } };
const pod = (name: string, ip: string) => ({ namespace: 'ns', name, ip, labels: { app: 'web' }, containerPorts: [{ name: 'http', containerPort: 8080 }] });

test('endpoints follow the selector, resolve named target ports and keep not-ready pods marked', () => {
  const p = new MemoryPlatform({ services: [svc], pods: [pod('a', '198.18.0.1'), { ...pod('b', '198.18.0.2'), ready: false }] });
  const eps = p.getEndpoints('ns', 'web')!;
  assert.deepEqual(eps.map((e) => [e.ip, e.port, e.servicePort, e.ready]), [
    ['198.18.0.1', 8080, 80, true],
    ['198.18.0.2', 8080, 80, false],
  ]);
  assert.equal(p.getEndpoints('ns', 'nothing'), undefined);
  assert.equal(p.serviceByClusterIP('198.19.0.1')?.name, 'web');
  assert.equal(p.podByIP('198.18.0.2')?.name, 'b');
});

test('a pod change fires pod and endpoints events for the services it backs, once visible', () => {
  const p = new MemoryPlatform({ services: [svc] });
  const events = recorder(p);
  let seen: number | undefined;
  p.watch((e) => {
    if (e.kind === 'endpoints') seen = p.getEndpoints('ns', 'web')?.length;
  });
  p.applyPod(pod('a', '198.18.0.1'));
  assert.deepEqual(events, [
    { kind: 'endpoints', namespace: 'ns', name: 'web' },
    { kind: 'pod', namespace: 'ns', name: 'a', ips: ['198.18.0.1'] },
  ]);
  assert.equal(seen, 1, 'the listener reads the new state');

  events.length = 0;
  p.updatePod('ns', 'a', { ip: '198.18.0.9' });
  assert.deepEqual(events.find((e) => e.kind === 'pod'), { kind: 'pod', namespace: 'ns', name: 'a', ips: ['198.18.0.1', '198.18.0.9'] });

  events.length = 0;
  p.applyPod(pod('a', '198.18.0.9')); // no change, no event
  assert.deepEqual(events, []);

  p.applyPod({ namespace: 'other', name: 'x', ip: '198.18.0.50' });
  assert.deepEqual(events, [{ kind: 'pod', namespace: 'other', name: 'x', ips: ['198.18.0.50'] }], 'no endpoints event: it backs nothing');
});

test('replace() fires events only for what differs', () => {
  const p = new MemoryPlatform({ services: [svc], pods: [pod('a', '198.18.0.1')] });
  const events = recorder(p);
  p.replace({ services: [svc], pods: [pod('a', '198.18.0.1')], profiles: [{ namespace: 'ns', name: 'web.ns.svc.cluster.local', spec: {} }] });
  assert.deepEqual(events, [{ kind: 'profile', namespace: 'ns', name: 'web.ns.svc.cluster.local' }]);
});

test('opaque ports come from the annotation, with named container ports resolved', () => {
  const p = new MemoryPlatform({
    pods: [{ namespace: 'ns', name: 'db', ip: '198.18.0.3', annotations: { 'config.fathom.io/opaque-ports': 'pg,6379,7000-7002' }, containerPorts: [{ name: 'pg', containerPort: 5432 }] }],
  });
  assert.deepEqual([...p.podByIP('198.18.0.3')!.opaquePorts!].sort(), [5432, 6379, 7000, 7001, 7002]);
  assert.throws(
    () => p.applyPod({ namespace: 'ns', name: 'bad', annotations: { 'config.fathom.io/opaque-ports': 'nope' } }),
    /opaque port "nope" is neither a number nor a named container port/,
  );
});

test('token review: known tokens authenticate, others are rejected with a reason, outages throw', async () => {
  const p = new MemoryPlatform({ tokens: { t1: { namespace: 'ns', serviceAccount: 'web' } } });
  assert.deepEqual(await p.reviewToken('t1\n'), { authenticated: true, namespace: 'ns', serviceAccount: 'web' });
  assert.deepEqual(await p.reviewToken('t2'), { authenticated: false, reason: 'the token is not known to the platform' });
  p.tokenReviewError = new Error('down');
  await assert.rejects(p.reviewToken('t1'), /down/);
});
