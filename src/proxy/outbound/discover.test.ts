// The outbound discovery stage against a real controller over gRPC with TLS (in-process, memory platform):
// what each kind of destination resolves to (a logical service's balanced endpoints with mTLS and dst_
// labels, a pod, the original destination), opaque ports, and the failfast answers (no endpoints, no
// controller, no identity yet).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startController, type InProcessController } from '../../../test/helpers/controller.js';
import { DiscoveryClient } from '../discover/client.js';
import { recordingLogger, startSilentListener } from '../discover/testing.js';
import type { Mesh } from '../mesh.js';
import type { EndpointTarget } from '../target/endpoint.js';
import type { Claim } from '../target/selector.js';
import { IdentityStore } from '../tls/store.js';
import { DiscoveredSelector } from './discover.js';
import { LogicalServices } from './logical.js';

const NS = 'shop';
const WEB_ID = `web.${NS}.serviceaccount.identity.fathom.cluster.local`;
const OPAQUE = new Set([6379]);

let c: InProcessController;
const closers: Array<() => unknown> = [];

before(async () => {
  c = await startController();
  const p = c.platform;
  p.applyService({ namespace: NS, name: 'web', clusterIP: '198.19.0.10', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } });
  p.applyService({ namespace: NS, name: 'redis', clusterIP: '198.19.0.11', ports: [{ port: 6379 }], selector: { app: 'redis' } });
  p.applyService({ namespace: NS, name: 'empty', clusterIP: '198.19.0.12', ports: [{ port: 80 }], selector: { app: 'nothing' } });
  p.applyPod({ namespace: NS, name: 'web-0', ip: '198.18.0.10', labels: { app: 'web' }, owner: { kind: 'Deployment', name: 'web' }, serviceAccount: 'web', meshed: true });
  p.applyPod({ namespace: NS, name: 'redis-0', ip: '198.18.0.11', labels: { app: 'redis' }, serviceAccount: 'redis', meshed: true });
  // A pod whose address is this host's own (127.0.0.1): to the proxy, an endpoint in its own pod.
  p.applyService({ namespace: NS, name: 'self', clusterIP: '198.19.0.13', ports: [{ port: 80 }], selector: { app: 'self' } });
  p.applyPod({ namespace: NS, name: 'self-0', ip: '127.0.0.1', labels: { app: 'self' }, serviceAccount: 'self', meshed: true });
});

after(async () => {
  for (const close of closers.reverse()) await close();
  await c.close();
});

/** A Mesh on the test controller (or on `port`), with a store that holds a certificate unless `certified` is false. */
function meshOn(opts: { port?: number; failfastMs?: number; certified?: boolean } = {}): { mesh: Mesh; services: LogicalServices; store: IdentityStore } {
  const controller = { addr: { host: '127.0.0.1', port: opts.port ?? c.controller.port }, identity: c.controller.identity, trustAnchorsPem: c.controller.trustAnchorsPem };
  const discovery = new DiscoveryClient({ controller, log: recordingLogger() });
  const store = new IdentityStore({ identity: 'client.shop.serviceaccount.identity.fathom.cluster.local', trustAnchorsPem: c.controller.trustAnchorsPem });
  // The selector only asks whether the store is ready; a fake answer spares issuing a certificate here.
  if (opts.certified !== false) Object.defineProperty(store, 'ready', { get: () => true });
  const mesh = { localIdentity: store.identity, store, discovery, contextToken: JSON.stringify({ ns: NS }), failfastMs: opts.failfastMs ?? 3000, discoverable: () => true } as unknown as Mesh;
  const services = new LogicalServices(mesh);
  closers.push(() => (services.close(), discovery.close()));
  return { mesh, services, store };
}

function select(selector: DiscoveredSelector): Promise<{ endpoint?: EndpointTarget; claim?: Claim; code?: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    selector.select((err, endpoint, claim) => resolve({ endpoint, claim, code: err?.code, ms: Date.now() - started }));
  });
}

const known = (s: DiscoveredSelector) => new Promise<boolean>((resolve) => s.whenKnown(resolve));

test('a cluster IP resolves to its service: balanced endpoints with mTLS, h2, and dst_ labels', async () => {
  const { mesh, services } = meshOn();
  const s = new DiscoveredSelector({ host: '198.19.0.10', port: 80 }, { mesh, services, opaquePorts: OPAQUE });
  assert.equal(await known(s), false);
  const { endpoint, claim } = await select(s);
  assert.equal(endpoint?.addrKey, '198.18.0.10:8080');
  assert.deepEqual(endpoint?.tls, { identity: WEB_ID });
  assert.equal(endpoint?.h2, true);
  assert.equal(endpoint?.poolKey, `198.18.0.10:8080#${WEB_ID}`);
  assert.deepEqual(endpoint?.labels, {
    direction: 'outbound', target_addr: '198.18.0.10:8080', tls: 'true', server_id: WEB_ID,
    dst_namespace: NS, dst_service: 'web', dst_pod: 'web-0', dst_serviceaccount: 'web', dst_deployment: 'web', dst_control_plane_ns: 'fathom',
  });
  assert.equal(endpoint?.connLabels.peer, 'dst');
  claim?.done();
  s.release();
});

test('an opaque port goes through the peer proxy with a transport header; the profile says opaque', async () => {
  const { mesh, services } = meshOn();
  const s = new DiscoveredSelector({ host: '198.19.0.11', port: 6379 }, { mesh, services, opaquePorts: new Set() });
  assert.equal(await known(s), true, 'opaque by the controller, not the proxy configuration');
  const { endpoint } = await select(s);
  assert.deepEqual(endpoint?.transport, { addr: { host: '198.18.0.11', port: 4143 }, port: 6379 });
  s.release();
});

test('a pod IP is that one endpoint; an address the controller does not know is the original destination in clear', async () => {
  const { mesh, services } = meshOn();
  const pod = new DiscoveredSelector({ host: '198.18.0.10', port: 8080 }, { mesh, services, opaquePorts: OPAQUE });
  assert.equal((await select(pod)).endpoint?.tls?.identity, WEB_ID);
  const unknown = new DiscoveredSelector({ host: '198.18.9.9', port: 80 }, { mesh, services, opaquePorts: OPAQUE });
  const { endpoint } = await select(unknown);
  assert.equal(endpoint?.addrKey, '198.18.9.9:80');
  assert.equal(endpoint?.tls, undefined);
  assert.deepEqual(endpoint?.labels, { direction: 'outbound', target_addr: '198.18.9.9:80', tls: 'no_identity', no_tls_reason: 'not_provided_by_service_discovery' });
  pod.release();
  unknown.release();
});

test("an endpoint in the proxy's own pod is reached in clear (its own connections are not redirected to its inbound)", async () => {
  const { mesh, services } = meshOn();
  const s = new DiscoveredSelector({ host: '198.19.0.13', port: 80 }, { mesh, services, opaquePorts: OPAQUE });
  const { endpoint } = await select(s);
  assert.equal(endpoint?.addrKey, '127.0.0.1:80');
  assert.equal(endpoint?.tls, undefined);
  assert.equal(endpoint?.h2, false);
  assert.equal(endpoint?.labels.no_tls_reason, 'loopback');
  assert.equal(endpoint?.labels.dst_pod, 'self-0');
  s.release();
});

test('failfast: a service without endpoints fails with ENOENDPOINTS after the failfast timeout', async () => {
  const { mesh, services } = meshOn({ failfastMs: 300 });
  const s = new DiscoveredSelector({ host: '198.19.0.12', port: 80 }, { mesh, services, opaquePorts: OPAQUE });
  const r = await select(s);
  assert.equal(r.code, 'ENOENDPOINTS');
  assert.ok(r.ms >= 250 && r.ms < 1500, `${r.ms} ms`);
  s.release();
});

test('failfast: a controller that never answers gives EDISCOVERYTIMEOUT; later requests on the connection fail at once', async () => {
  const silent = await startSilentListener();
  closers.push(() => silent.close());
  const { mesh, services } = meshOn({ port: silent.port, failfastMs: 300 });
  const s = new DiscoveredSelector({ host: '198.19.0.10', port: 80 }, { mesh, services, opaquePorts: OPAQUE });
  const first = await select(s);
  assert.equal(first.code, 'EDISCOVERYTIMEOUT');
  assert.ok(first.ms >= 250, `${first.ms} ms`);
  const second = await select(s);
  assert.equal(second.code, 'EDISCOVERYTIMEOUT');
  assert.ok(second.ms < 100, `failed fast: ${second.ms} ms`);
  s.release();
});

test('an mTLS endpoint before this proxy is certified: EIDENTITYNOTREADY after the failfast timeout', async () => {
  const { mesh, services } = meshOn({ failfastMs: 300, certified: false });
  const s = new DiscoveredSelector({ host: '198.19.0.10', port: 80 }, { mesh, services, opaquePorts: OPAQUE });
  const r = await select(s);
  assert.equal(r.code, 'EIDENTITYNOTREADY');
  s.release();
});

test('endpoint updates swap the balancer; a removed endpoint is no longer chosen', async () => {
  const { mesh, services } = meshOn();
  const s = new DiscoveredSelector({ host: '198.19.0.10', port: 80 }, { mesh, services, opaquePorts: OPAQUE });
  await select(s);
  c.platform.applyPod({ namespace: NS, name: 'web-1', ip: '198.18.0.20', labels: { app: 'web' }, serviceAccount: 'web', meshed: true });
  c.platform.deletePod(NS, 'web-0');
  const deadline = Date.now() + 3000;
  let chosen = '';
  while (Date.now() < deadline && chosen !== '198.18.0.20:8080') {
    chosen = (await select(s)).endpoint?.addrKey ?? '';
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(chosen, '198.18.0.20:8080');
  for (let i = 0; i < 20; i++) assert.equal((await select(s)).endpoint?.addrKey, '198.18.0.20:8080');
  s.release();
});
