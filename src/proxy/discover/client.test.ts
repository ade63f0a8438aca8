// The destination client against a real controller over gRPC with TLS (in-process, memory platform):
// first answers, changes, existence, profiles, sharing, idle release and failfast.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startController, type InProcessController } from '../../../test/helpers/controller.js';
import { DiscoveryClient, type DiscoveryOptions } from './client.js';
import type { EndpointSnapshot } from './endpoints.js';
import { eventually, recordingLogger, startSilentListener } from './testing.js';
import type { Watch } from './watch.js';

type PodInput = Parameters<InProcessController['platform']['applyPod']>[0];

const NS = 'nodevoto';
const WEB = `web.${NS}.svc.cluster.local:80`;
const WEB_ID = `web.${NS}.serviceaccount.identity.fathom.cluster.local`;

const webPod = (n: number): PodInput => ({
  namespace: NS,
  name: `web-${n}`,
  ip: `198.18.0.${10 + n}`,
  labels: { app: 'web' },
  owner: { kind: 'Deployment', name: 'web' },
  serviceAccount: 'web',
  meshed: true,
  containerPorts: [{ name: 'http', containerPort: 8080 }],
});

let c: InProcessController;
const clients: DiscoveryClient[] = [];

before(async () => {
  c = await startController();
  const p = c.platform;
  p.applyService({ namespace: NS, name: 'web', clusterIP: '198.19.0.10', ports: [{ port: 80, targetPort: 'http' }], selector: { app: 'web' } });
  p.applyService({ namespace: NS, name: 'redis', clusterIP: '198.19.0.11', ports: [{ port: 6379 }], selector: { app: 'redis' } });
  p.applyService({ namespace: NS, name: 'idle', clusterIP: '198.19.0.12', ports: [{ port: 80 }], selector: { app: 'idle' } });
  p.applyPod(webPod(1));
  p.applyPod({ namespace: NS, name: 'redis-0', ip: '198.18.0.50', labels: { app: 'redis' }, serviceAccount: 'redis', meshed: true });
});

after(async () => {
  for (const d of clients) d.close();
  await c.close();
});

function client(extra: Partial<DiscoveryOptions> = {}): DiscoveryClient {
  const d = new DiscoveryClient({
    controller: { addr: { host: '127.0.0.1', port: c.controller.port }, identity: c.controller.identity, trustAnchorsPem: c.controller.trustAnchorsPem },
    log: recordingLogger(),
    ...extra,
  });
  clients.push(d);
  return d;
}

/** Resolves with the next snapshot the watch publishes that satisfies `accept`. */
function nextChange<T>(watch: Watch<T>, accept: (s: T | undefined) => boolean, timeoutMs = 1_000): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`no matching change within ${timeoutMs} ms`))), timeoutMs);
    const off = watch.onChange((s) => {
      if (!accept(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

const keys = (s: EndpointSnapshot | undefined) => [...(s?.endpoints.keys() ?? [])].sort();

test('endpoints: the first snapshot has every ready endpoint with identity, h2 hint and labels', async () => {
  const w = client().endpoints(WEB);
  assert.equal(w.current, undefined, 'nothing before the first answer');
  const snap = await w.ready();
  assert.equal(snap.exists, true);
  assert.deepEqual(keys(snap), ['198.18.0.11:8080']);
  const e = snap.endpoints.get('198.18.0.11:8080')!;
  assert.equal(e.identity, WEB_ID);
  assert.equal(e.protocolHint, 'h2');
  assert.equal(e.weight, 10000);
  assert.equal(e.metricLabels.namespace, NS);
  assert.equal(e.metricLabels.service, 'web');
  assert.equal(e.metricLabels.pod, 'web-1');
  assert.equal(e.metricLabels.deployment, 'web');
  assert.equal(w.current, snap, 'ready resolves with the published snapshot');
  w.release();
});

test('endpoints: adds and removes reach the watch within a second; the last removal means "exists, empty"', async () => {
  const w = client().endpoints(WEB);
  const first = await w.ready();
  const added = nextChange(w, (s) => keys(s).length === 2);
  c.platform.applyPod(webPod(2));
  assert.deepEqual(keys(await added), ['198.18.0.11:8080', '198.18.0.12:8080']);
  assert.deepEqual(keys(first), ['198.18.0.11:8080'], 'an earlier snapshot never changes');

  const removed = nextChange(w, (s) => keys(s).length === 1);
  c.platform.deletePod(NS, 'web-1');
  assert.deepEqual(keys(await removed), ['198.18.0.12:8080']);

  const empty = nextChange(w, (s) => keys(s).length === 0);
  c.platform.deletePod(NS, 'web-2');
  assert.equal((await empty)?.exists, true);

  const back = nextChange(w, (s) => keys(s).length === 1);
  c.platform.applyPod(webPod(1));
  assert.deepEqual(keys(await back), ['198.18.0.11:8080']);
  w.release();
});

test('endpoints: a service with nothing ready exists; an unknown one does not', async () => {
  const d = client();
  const idle = await d.endpoints(`idle.${NS}.svc.cluster.local:80`).ready();
  assert.deepEqual({ exists: idle.exists, size: idle.endpoints.size }, { exists: true, size: 0 });
  const unknown = await d.endpoints(`nope.${NS}.svc.cluster.local:80`).ready();
  assert.deepEqual({ exists: unknown.exists, size: unknown.endpoints.size }, { exists: false, size: 0 });
});

test('profile: a cluster IP names its service; a pod IP is a single endpoint; other addresses are unknown', async () => {
  const d = client();
  const svc = await d.profile('198.19.0.10:80', JSON.stringify({ ns: NS })).ready();
  assert.equal(svc.fullyQualifiedName, `web.${NS}.svc.cluster.local`);
  assert.equal(svc.opaqueProtocol, false);
  assert.equal(svc.endpoint, undefined);
  assert.deepEqual(svc.routes, []);
  assert.ok(Math.abs(svc.retryBudget!.retryRatio - 0.2) < 1e-6, 'the default retry budget');

  const pod = await d.profile('198.18.0.11:8080').ready();
  assert.equal(pod.fullyQualifiedName, '');
  assert.equal(pod.endpoint?.key, '198.18.0.11:8080');
  assert.equal(pod.endpoint?.identity, WEB_ID);

  const redis = await d.profile('198.19.0.11:6379').ready();
  assert.equal(redis.opaqueProtocol, true, 'redis is opaque by default');
  const redisEndpoints = await d.endpoints(`redis.${NS}.svc.cluster.local:6379`).ready();
  const r = redisEndpoints.endpoints.get('198.18.0.50:6379')!;
  assert.deepEqual([r.protocolHint, r.opaqueTransportPort], ['opaque-transport', 4143]);

  const outside = await d.profile('10.1.2.3:80').ready();
  assert.deepEqual([outside.fullyQualifiedName, outside.endpoint], ['', undefined]);
});

test('a target the controller refuses (INVALID_ARGUMENT) is reported as not resolvable', async () => {
  const w = client().profile('no-port-here');
  await assert.rejects(w.ready(), (err: { code?: string }) => err.code === 'EUNRESOLVABLE');
  assert.match(w.unresolvable ?? '', /no-port-here/);
  assert.equal(w.current, undefined);
});

test('one stream per target is shared by its users and closed after the idle time', async () => {
  const d = client({ idleMs: 200 });
  const base = c.controller.openStreams;
  const a = d.profile('198.19.0.10:80');
  const b = d.profile('198.19.0.10:80');
  await Promise.all([a.ready(), b.ready()]);
  assert.equal(c.controller.openStreams, base + 1, 'two users, one stream');
  assert.equal(a.current, b.current);

  a.release();
  a.release(); // idempotent: must not release b's share
  b.release();
  const again = d.profile('198.19.0.10:80');
  assert.ok(again.current, 'a user back within the idle time finds the stream warm');
  assert.equal(c.controller.openStreams, base + 1);
  again.release();

  await eventually('the idle stream to close', () => d.cachedStreams === 0 && c.controller.openStreams === base, 3_000);
});

test('failfast: ready() rejects after the timeout when the controller never answers', async () => {
  const silent = await startSilentListener();
  try {
    const d = client({ controller: { addr: { host: '127.0.0.1', port: silent.port }, identity: c.controller.identity, trustAnchorsPem: c.controller.trustAnchorsPem } });
    const w = d.profile('198.19.0.10:80');
    const started = Date.now();
    await assert.rejects(w.ready(300), (err: { code?: string; message: string }) => err.code === 'EDISCOVERYTIMEOUT' && /within 300 ms/.test(err.message));
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 1_500, `failed after ${took} ms`);
    assert.equal(w.current, undefined);
    d.close();
  } finally {
    await silent.close();
  }
});
