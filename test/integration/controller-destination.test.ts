// The Destination service over real gRPC with TLS: a client that verifies the controller's identity
// against the trust anchors asks for endpoints and profiles while the (in-memory) platform changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { tcpAddressToString } from '../../src/api/net-addr.js';
import type { DestinationProfile, Update, WeightedAddr } from '../../src/api/gen/fathom/destination.js';
import { HttpMethod_Registered } from '../../src/api/gen/fathom/http_types.js';
import { MemoryPlatform } from '../../src/platform/memory/memory-platform.js';
import type { PodInput } from '../../src/platform/memory/state.js';
import { clientsFor, startController, StreamReader, type InProcessController } from '../helpers/controller.js';

const NS = 'nodevoto';
const WEB_IP = '198.19.0.10';

function webPod(n: number, extra: Partial<PodInput> = {}): PodInput {
  return {
    namespace: NS,
    name: `web-5d8f-${n}`,
    ip: `198.18.0.${10 + n}`,
    labels: { app: 'web', 'pod-template-hash': '5d8f' },
    owner: { kind: 'Deployment', name: 'web' },
    serviceAccount: 'web',
    meshed: true,
    containerPorts: [{ name: 'http', containerPort: 8080 }],
    ...extra,
  };
}

let c: InProcessController;
let platform: MemoryPlatform;

before(async () => {
  platform = new MemoryPlatform({
    services: [
      { namespace: NS, name: 'web', clusterIP: WEB_IP, ports: [{ name: 'http', port: 80, targetPort: 'http' }], selector: { app: 'web' } },
      { namespace: NS, name: 'redis', clusterIP: '198.19.0.11', ports: [{ port: 6379 }], selector: { app: 'redis' } },
      { namespace: NS, name: 'idle', clusterIP: '198.19.0.12', ports: [{ port: 80 }], selector: { app: 'idle' } },
      { namespace: NS, name: 'plain', clusterIP: '198.19.0.13', ports: [{ port: 80 }], selector: { app: 'plain' } },
    ],
    pods: [
      webPod(1),
      { namespace: NS, name: 'redis-0', ip: '198.18.0.50', labels: { app: 'redis' }, owner: { kind: 'StatefulSet', name: 'redis' }, serviceAccount: 'redis', meshed: true },
      { namespace: NS, name: 'idle-1', ip: '198.18.0.60', labels: { app: 'idle' }, ready: false, meshed: true },
      { namespace: NS, name: 'plain-1', ip: '198.18.0.70', labels: { app: 'plain' } },
    ],
  });
  c = await startController({ platform });
});

after(async () => {
  await c.close();
});

const get = (path: string, contextToken = '') => new StreamReader<Update>(c.clients.destination.get({ scheme: '', path, contextToken }));
const getProfile = (path: string, contextToken = '') =>
  new StreamReader<DestinationProfile>(c.clients.destination.getProfile({ scheme: '', path, contextToken }));

function added(update: Update): WeightedAddr[] {
  assert.equal(update.update?.$case, 'add', `expected an add, got ${JSON.stringify(update.update?.$case)}`);
  return update.update.$case === 'add' ? update.update.value.addrs : [];
}

const addrs = (list: WeightedAddr[]) => list.map((a) => tcpAddressToString(a.addr)).sort();

test('Get sends the current endpoints at once, with identity, h2 hint and metric labels', async () => {
  const stream = get(`web.${NS}.svc.cluster.local:80`);
  const first = await stream.next();
  assert.equal(first.update?.$case, 'add');
  if (first.update?.$case !== 'add') return;
  assert.deepEqual(first.update.value.metricLabels, { namespace: NS, service: 'web' });
  const [addr] = first.update.value.addrs;
  assert.equal(tcpAddressToString(addr!.addr), '198.18.0.11:8080', 'the named target port resolves to the pod port');
  assert.equal(addr!.weight, 10000);
  assert.deepEqual(addr!.metricLabels, {
    pod: 'web-5d8f-1',
    deployment: 'web',
    serviceaccount: 'web',
    pod_template_hash: '5d8f',
    control_plane_ns: 'fathom',
  });
  assert.deepEqual(addr!.tlsIdentity?.strategy, { $case: 'dnsLikeIdentity', value: { name: `web.${NS}.serviceaccount.identity.fathom.cluster.local` } });
  assert.equal(addr!.protocolHint?.protocol?.$case, 'h2');
  assert.equal(addr!.protocolHint?.opaqueTransport, undefined, 'port 8080 is not opaque');
  stream.cancel();
});

test('Get pushes adds and removes as pods come and go, then no_endpoints{exists:true}', async () => {
  const stream = get(`web.${NS}:80`);
  assert.deepEqual(addrs(added(await stream.next())), ['198.18.0.11:8080']);

  platform.applyPod(webPod(2));
  assert.deepEqual(addrs(added(await stream.next())), ['198.18.0.12:8080']);

  platform.updatePod(NS, 'web-5d8f-2', { ready: false });
  const removed = await stream.next();
  assert.equal(removed.update?.$case, 'remove');
  if (removed.update?.$case === 'remove') assert.deepEqual(removed.update.value.addrs.map(tcpAddressToString), ['198.18.0.12:8080']);

  platform.updatePod(NS, 'web-5d8f-2', { ready: true });
  assert.deepEqual(addrs(added(await stream.next())), ['198.18.0.12:8080']);
  platform.deletePod(NS, 'web-5d8f-2');
  assert.equal((await stream.next()).update?.$case, 'remove');

  platform.deletePod(NS, 'web-5d8f-1');
  assert.deepEqual((await stream.next()).update, { $case: 'noEndpoints', value: { exists: true } });
  platform.applyPod(webPod(1));
  assert.deepEqual(addrs(added(await stream.next())), ['198.18.0.11:8080']);
  stream.cancel();
});

test('Get answers no_endpoints: exists=false for an unknown service, exists=true without ready endpoints', async () => {
  const unknown = get(`nothing.${NS}.svc.cluster.local:80`);
  assert.deepEqual((await unknown.next()).update, { $case: 'noEndpoints', value: { exists: false } });
  const idle = get(`idle.${NS}.svc.cluster.local:80`);
  assert.deepEqual((await idle.next()).update, { $case: 'noEndpoints', value: { exists: true } });

  // The service appears later: the same stream learns of it.
  platform.applyService({ namespace: NS, name: 'nothing', clusterIP: '198.19.0.99', ports: [{ port: 80 }], selector: { app: 'web' } });
  assert.deepEqual(addrs(added(await unknown.next())), ['198.18.0.11:80']);
  platform.deleteService(NS, 'nothing');
  assert.deepEqual((await unknown.next()).update, { $case: 'noEndpoints', value: { exists: false } });
  unknown.cancel();
  idle.cancel();
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a client that reconnects gets the current state, and a cancelled stream is released', async () => {
  await waitFor(() => c.controller.openStreams === 0, 'earlier streams to close');
  const first = get(`web.${NS}.svc.cluster.local:80`);
  assert.deepEqual(addrs(added(await first.next())), ['198.18.0.11:8080']);
  assert.equal(c.controller.openStreams, 1);
  first.cancel();
  await waitFor(() => c.controller.openStreams === 0, 'the cancelled stream to be released');
  platform.applyPod(webPod(3));
  const again = get(`web.${NS}.svc.cluster.local:80`);
  assert.deepEqual(addrs(added(await again.next())), ['198.18.0.11:8080', '198.18.0.13:8080']);
  again.cancel();
  platform.deletePod(NS, 'web-5d8f-3');
});

test('Get by cluster IP resolves the service; an opaque port carries opaque_transport with the inbound port', async () => {
  const byIp = get(`${WEB_IP}:80`);
  const update = await byIp.next();
  assert.ok(addrs(added(update)).includes('198.18.0.11:8080'));
  byIp.cancel();

  const redis = get(`redis.${NS}.svc.cluster.local:6379`);
  const [addr] = added(await redis.next());
  assert.equal(addr!.protocolHint?.protocol?.$case, 'h2');
  assert.deepEqual(addr!.protocolHint?.opaqueTransport, { inboundPort: 4143 });
  assert.equal(addr!.metricLabels.statefulset, 'redis');
  redis.cancel();
});

test('an un-meshed endpoint has no identity and no protocol hint', async () => {
  const stream = get(`plain.${NS}.svc.cluster.local:80`);
  const [addr] = added(await stream.next());
  assert.equal(addr!.tlsIdentity, undefined);
  assert.equal(addr!.protocolHint, undefined);
  assert.equal(addr!.metricLabels.control_plane_ns, undefined);
  stream.cancel();
});

test('a bad path is INVALID_ARGUMENT, naming the path', async () => {
  const stream = get('web-no-port');
  await assert.rejects(stream.next(), (err: ServiceError) => {
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /path "web-no-port" is not a valid destination: expected host:port/);
    return true;
  });
});

test("the client checks the controller's identity", async () => {
  const wrong = clientsFor(c.controller.port, c.controller.trustAnchorsPem, `web.${NS}.serviceaccount.identity.fathom.cluster.local`);
  const stream = new StreamReader<Update>(wrong.destination.get({ scheme: '', path: `web.${NS}:80`, contextToken: '' }));
  await assert.rejects(stream.next(), (err: ServiceError) => err.code === status.UNAVAILABLE);
  wrong.close();
});

const FQN = `web.${NS}.svc.cluster.local`;

test('GetProfile resolves name:port, svc.ns:port, fqdn:port and cluster-ip:port to the fqn with defaults', async () => {
  for (const [path, token] of [
    ['web:80', JSON.stringify({ ns: NS })],
    [`web.${NS}:80`, ''],
    [`${FQN}:80`, ''],
    [`${FQN}.:80`, ''],
    [`${WEB_IP}:80`, ''],
  ] as const) {
    const stream = getProfile(path, token);
    const profile = await stream.next();
    assert.equal(profile.fullyQualifiedName, FQN, path);
    assert.equal(profile.opaqueProtocol, false, path);
    assert.deepEqual(profile.routes, [], path);
    assert.equal(profile.endpoint, undefined, path);
    assert.ok(Math.abs(profile.retryBudget!.retryRatio - 0.2) < 1e-6, path);
    assert.equal(profile.retryBudget!.minRetriesPerSecond, 10, path);
    assert.deepEqual(profile.retryBudget!.ttl, { seconds: 10n, nanos: 0 }, path);
    stream.cancel();
  }
});

test('GetProfile for a pod IP answers that single endpoint; unknown answers an empty name', async () => {
  const pod = getProfile('198.18.0.50:6379');
  const profile = await pod.next();
  assert.equal(profile.fullyQualifiedName, '');
  assert.equal(profile.opaqueProtocol, true);
  assert.equal(tcpAddressToString(profile.endpoint?.addr), '198.18.0.50:6379');
  assert.deepEqual(profile.endpoint?.protocolHint?.opaqueTransport, { inboundPort: 4143 });
  pod.cancel();

  for (const path of ['10.1.2.3:80', 'example.org.internal:443']) {
    const unknown = getProfile(path);
    const p = await unknown.next();
    assert.equal(p.fullyQualifiedName, '', path);
    assert.equal(p.endpoint, undefined, path);
    unknown.cancel();
  }
});

test('GetProfile marks opaque service ports and re-sends when the service profile changes', async () => {
  const redis = getProfile(`redis.${NS}:6379`);
  assert.equal((await redis.next()).opaqueProtocol, true);
  redis.cancel();

  const stream = getProfile(`${FQN}:80`, JSON.stringify({ ns: 'client-ns' }));
  assert.deepEqual((await stream.next()).routes, []);
  platform.applyProfile({
    namespace: NS,
    name: FQN,
    spec: {
      routes: [{ name: 'GET /api/list', condition: { method: 'GET', pathRegex: '/api/list' }, isRetryable: true, timeout: '250ms' }],
      retryBudget: { retryRatio: 0.5, minRetriesPerSecond: 3, ttl: '5s' },
    },
  });
  const withRoute = await stream.next();
  assert.equal(withRoute.routes.length, 1);
  const [route] = withRoute.routes;
  assert.deepEqual(route!.metricsLabels, { route: 'GET /api/list' });
  assert.equal(route!.isRetryable, true);
  assert.deepEqual(route!.timeout, { seconds: 0n, nanos: 250_000_000 });
  assert.deepEqual(route!.condition?.match, {
    $case: 'all',
    value: {
      matches: [
        { match: { $case: 'path', value: { regex: '/api/list' } } },
        { match: { $case: 'method', value: { type: { $case: 'registered', value: HttpMethod_Registered.GET } } } },
      ],
    },
  });
  assert.equal(withRoute.retryBudget?.minRetriesPerSecond, 3);

  // A profile in the client's own namespace takes precedence over the service's.
  platform.applyProfile({ namespace: 'client-ns', name: FQN, spec: { routes: [] } });
  assert.deepEqual((await stream.next()).routes, []);
  platform.deleteProfile('client-ns', FQN);
  assert.equal((await stream.next()).routes.length, 1);
  platform.deleteProfile(NS, FQN);
  assert.deepEqual((await stream.next()).routes, []);
  stream.cancel();
});
