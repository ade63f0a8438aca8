// Get/GetProfile messages to snapshots, table-driven: duplicates, any order, exists, replace on reconnect, labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Update, WeightedAddr } from '../../api/gen/fathom/destination.js';
import { tcpAddressToProto } from '../../api/net-addr.js';
import { applyUpdate, toEndpoint, type EndpointSnapshot } from './endpoints.js';
import { toProfileSnapshot } from './profile.js';

const WEB_ID = 'web.nodevoto.serviceaccount.identity.fathom.cluster.local';

function wire(ip: string, port: number, extra: Partial<WeightedAddr> = {}): WeightedAddr {
  return {
    addr: tcpAddressToProto(ip, port),
    weight: 10000,
    metricLabels: {},
    tlsIdentity: undefined,
    protocolHint: undefined,
    authorityOverride: undefined,
    http2: undefined,
    resourceRef: undefined,
    ...extra,
  };
}

const add = (addrs: WeightedAddr[], metricLabels: Record<string, string> = {}): Update => ({ update: { $case: 'add', value: { addrs, metricLabels } } });
const remove = (...keys: Array<[string, number]>): Update => ({
  update: { $case: 'remove', value: { addrs: keys.map(([ip, port]) => tcpAddressToProto(ip, port)) } },
});
const none = (exists: boolean): Update => ({ update: { $case: 'noEndpoints', value: { exists } } });

/** Applies updates in order as one stream (the first replaces), returning what the data path would see. */
function run(updates: Update[], start?: EndpointSnapshot): { exists: boolean | undefined; keys: string[] } | undefined {
  let snap = start;
  let first = true;
  for (const u of updates) {
    snap = applyUpdate(first ? undefined : snap, u) ?? snap;
    first = false;
  }
  return snap && { exists: snap.exists, keys: [...snap.endpoints.keys()].sort() };
}

test('Get updates build the endpoint set, tolerating duplicates and any order', () => {
  const a = wire('10.0.0.1', 80);
  const b = wire('10.0.0.2', 80);
  const cases: Array<[string, Update[], ReturnType<typeof run>]> = [
    ['one add', [add([a, b])], { exists: true, keys: ['10.0.0.1:80', '10.0.0.2:80'] }],
    ['a duplicate add counts once', [add([a]), add([a, a])], { exists: true, keys: ['10.0.0.1:80'] }],
    ['remove of an unknown address changes nothing', [add([a]), remove(['10.9.9.9', 80])], { exists: true, keys: ['10.0.0.1:80'] }],
    ['remove before add', [remove(['10.0.0.1', 80]), add([a])], { exists: true, keys: ['10.0.0.1:80'] }],
    ['removing the last endpoint means "exists, empty"', [add([a]), remove(['10.0.0.1', 80])], { exists: true, keys: [] }],
    ['a duplicate remove is harmless', [add([a, b]), remove(['10.0.0.1', 80]), remove(['10.0.0.1', 80])], { exists: true, keys: ['10.0.0.2:80'] }],
    ['no_endpoints{exists: false}: no such service', [none(false)], { exists: false, keys: [] }],
    ['no_endpoints{exists: true} empties the set', [add([a, b]), none(true)], { exists: true, keys: [] }],
    ['endpoints after no_endpoints', [none(false), add([b])], { exists: true, keys: ['10.0.0.2:80'] }],
    ['an empty update is ignored', [add([a]), { update: undefined }], { exists: true, keys: ['10.0.0.1:80'] }],
    ['a stream whose only message is empty has no snapshot', [{ update: undefined }], undefined],
  ];
  for (const [name, updates, expected] of cases) assert.deepEqual(run(updates), expected, name);
});

test('the first message of a stream replaces what an earlier stream left (reconnect)', () => {
  const old = applyUpdate(undefined, add([wire('10.0.0.1', 80), wire('10.0.0.2', 80)]))!;
  assert.deepEqual(run([none(true)], old), { exists: true, keys: [] });
  assert.deepEqual(run([none(false)], old), { exists: false, keys: [] });
  assert.deepEqual(run([add([wire('10.0.0.3', 80)])], old), { exists: true, keys: ['10.0.0.3:80'] });
});

test('snapshots are new objects: the previous one a reader holds does not change', () => {
  const first = applyUpdate(undefined, add([wire('10.0.0.1', 80)]))!;
  const second = applyUpdate(first, add([wire('10.0.0.2', 80)]))!;
  assert.notEqual(first, second);
  assert.equal(first.endpoints.size, 1);
  assert.equal(second.endpoints.size, 2);
  assert.ok(Object.isFrozen(second) && Object.isFrozen(second.endpoints.get('10.0.0.2:80')));
});

test('an endpoint carries its identity, protocol hint and merged metric labels', () => {
  const snap = applyUpdate(
    undefined,
    add(
      [
        wire('198.18.0.11', 8080, {
          metricLabels: { pod: 'web-1', deployment: 'web', namespace: 'override' },
          tlsIdentity: { strategy: { $case: 'dnsLikeIdentity', value: { name: WEB_ID } }, serverName: undefined },
          protocolHint: { protocol: { $case: 'h2', value: {} }, opaqueTransport: undefined },
        }),
        wire('198.18.0.12', 6379, { protocolHint: { protocol: { $case: 'h2', value: {} }, opaqueTransport: { inboundPort: 4143 } } }),
        wire('198.18.0.13', 80, { tlsIdentity: { strategy: { $case: 'uriLikeIdentity', value: { uri: 'spiffe://x' } }, serverName: undefined } }),
        wire('fd00::1', 80),
      ],
      { namespace: 'nodevoto', service: 'web' },
    ),
  )!;
  const web = snap.endpoints.get('198.18.0.11:8080')!;
  assert.deepEqual(web.addr, { host: '198.18.0.11', port: 8080 });
  assert.equal(web.identity, WEB_ID);
  assert.equal(web.protocolHint, 'h2');
  assert.equal(web.opaqueTransportPort, undefined);
  assert.deepEqual(web.metricLabels, { namespace: 'override', service: 'web', pod: 'web-1', deployment: 'web' }, 'address labels win');

  const redis = snap.endpoints.get('198.18.0.12:6379')!;
  assert.equal(redis.protocolHint, 'opaque-transport', 'the transport header decides how to connect');
  assert.equal(redis.opaqueTransportPort, 4143);
  assert.deepEqual(redis.metricLabels, { namespace: 'nodevoto', service: 'web' });

  const plain = snap.endpoints.get('198.18.0.13:80')!;
  assert.equal(plain.identity, undefined, 'only DNS-like identities are used for mTLS');
  assert.equal(plain.protocolHint, undefined);

  assert.ok(snap.endpoints.has('[fd00::1]:80'), 'IPv6 keys are bracketed');
});

test('an endpoint without an address is skipped', () => {
  assert.equal(toEndpoint(wire('10.0.0.1', 80, { addr: undefined })), undefined);
  const snap = applyUpdate(undefined, add([wire('10.0.0.1', 80, { addr: { ip: undefined, port: 80 } }), wire('10.0.0.2', 80)]))!;
  assert.deepEqual([...snap.endpoints.keys()], ['10.0.0.2:80']);
});

test('a profile converts its single endpoint and passes routes through', () => {
  const route = { condition: undefined, responseClasses: [], metricsLabels: { route: 'GET /' }, isRetryable: false, timeout: undefined };
  const snap = toProfileSnapshot({
    routes: [route],
    retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: { seconds: 10n, nanos: 0 } },
    dstOverrides: [],
    opaqueProtocol: false,
    fullyQualifiedName: '',
    endpoint: wire('198.18.0.11', 8080),
    parentRef: undefined,
    profileRef: undefined,
  });
  assert.equal(snap.fullyQualifiedName, '');
  assert.equal(snap.endpoint?.key, '198.18.0.11:8080');
  assert.deepEqual(snap.routes, [route]);
  assert.equal(snap.retryBudget?.retryRatio, 0.2);
});
