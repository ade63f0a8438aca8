// The TapHub as the data path and the Tap server use it: idle costs one field read, watchers get the
// events of matching requests, limits count, and a watcher's end removes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpMethod_Registered, Scheme_Registered } from '../../api/gen/fathom/http_types.js';
import { TapEvent_ProxyDirection, type TapEvent } from '../../api/gen/fathom/tap.js';
import { tcpAddressToString } from '../../api/net-addr.js';
import { TapHub, type TapWatch } from './hub.js';
import type { Matcher } from './match.js';
import { inboundSourceLabels, NO_TAP_LABELS, outboundDestinationLabels, type TapRequest } from './request.js';

const REQ: TapRequest = {
  direction: 'outbound',
  source: { ip: '::ffff:198.18.0.5', port: 41000, labels: NO_TAP_LABELS },
  destination: {
    ip: '198.18.0.7',
    port: 8080,
    labels: outboundDestinationLabels({ namespace: 'nodevoto', deployment: 'voting' }, 'true', 'voting.nodevoto.serviceaccount.identity.fathom.cluster.local'),
  },
  method: 'POST',
  scheme: 'http',
  authority: 'voting-svc.nodevoto:8080',
  path: '/fathom.Voting/VoteDoughnut',
  headers: ['Content-Type', 'application/grpc', 'TE', 'trailers'],
};

const ALL: Matcher = () => true;

/** A fake clock and a watcher that records what it receives. */
function setup(opts: { limit?: number; match?: Matcher; extractHeaders?: boolean; drainTimeoutMs?: number } = {}) {
  let now = 1000;
  const hub = new TapHub({ now: () => now, base: 7, drainTimeoutMs: opts.drainTimeoutMs });
  const events: TapEvent[] = [];
  let done = 0;
  const watch: TapWatch = {
    match: opts.match ?? ALL,
    limit: opts.limit ?? 100,
    extractHeaders: opts.extractHeaders ?? false,
    emit: (e) => events.push(e),
    done: () => done++,
  };
  const watcher = hub.watch(watch);
  return { hub, events, watcher, advance: (ms: number) => (now += ms), done: () => done };
}

const http = (e: TapEvent) => (e.event?.$case === 'http' ? e.event.value.event : undefined);

test('idle: `active` is a plain false field, so the data path pays one property read', () => {
  const hub = new TapHub();
  assert.equal(hub.active, false);
  const descriptor = Object.getOwnPropertyDescriptor(hub, 'active');
  assert.ok(descriptor && 'value' in descriptor && descriptor.get === undefined, 'a data property, not a getter');
  const w = hub.watch({ match: ALL, limit: 1, extractHeaders: false, emit: () => {}, done: () => {} });
  assert.equal(hub.active, true);
  w.close();
  assert.equal(hub.active, false);
  assert.equal(hub.watcherCount, 0);
});

test('a matching request gets request-init, response-init and response-end events with durations', () => {
  const { hub, events, advance } = setup();
  const id = hub.requestInit(REQ);
  assert.ok(id);
  advance(12.5);
  hub.responseInit(id, 200, { ':status': '200' });
  advance(3);
  hub.responseEnd(id, 42, 2);
  assert.equal(events.length, 3);

  const [req, rsp, end] = events.map(http);
  for (const e of events) {
    assert.equal(tcpAddressToString(e.source), '198.18.0.5:41000', 'an IPv4-mapped peer is reported as IPv4');
    assert.equal(tcpAddressToString(e.destination), '198.18.0.7:8080');
    assert.equal(e.proxyDirection, TapEvent_ProxyDirection.OUTBOUND);
    assert.deepEqual(e.destinationMeta?.labels, {
      namespace: 'nodevoto',
      deployment: 'voting',
      tls: 'true',
      server_id: 'voting.nodevoto.serviceaccount.identity.fathom.cluster.local',
    });
  }
  assert.equal(req?.$case, 'requestInit');
  if (req?.$case === 'requestInit') {
    assert.deepEqual(req.value.id, { base: 7, stream: 1n });
    assert.deepEqual(req.value.method, { type: { $case: 'registered', value: HttpMethod_Registered.POST } });
    assert.deepEqual(req.value.scheme, { type: { $case: 'registered', value: Scheme_Registered.HTTP } });
    assert.equal(req.value.authority, 'voting-svc.nodevoto:8080');
    assert.equal(req.value.path, '/fathom.Voting/VoteDoughnut');
    assert.equal(req.value.headers, undefined, 'headers only when asked for');
  }
  assert.equal(rsp?.$case, 'responseInit');
  if (rsp?.$case === 'responseInit') {
    assert.equal(rsp.value.httpStatus, 200);
    assert.deepEqual(rsp.value.sinceRequestInit, { seconds: 0n, nanos: 12_500_000 });
  }
  assert.equal(end?.$case, 'responseEnd');
  if (end?.$case === 'responseEnd') {
    assert.deepEqual(end.value.sinceRequestInit, { seconds: 0n, nanos: 15_500_000 });
    assert.deepEqual(end.value.sinceResponseInit, { seconds: 0n, nanos: 3_000_000 });
    assert.equal(end.value.responseBytes, 42n);
    assert.deepEqual(end.value.eos, { end: { $case: 'grpcStatusCode', value: 2 } });
  }
  // Repeated or late calls report nothing more.
  hub.responseEnd(id, 1);
  hub.responseInit(id, 500);
  assert.equal(events.length, 3);
});

test('stream ids count up from a per-hub base; resets and inbound metadata are reported', () => {
  const { hub, events } = setup();
  const inbound: TapRequest = { ...REQ, direction: 'inbound', source: { ip: '198.18.0.9', port: 5000, labels: inboundSourceLabels('true', 'web.nodevoto.serviceaccount.identity.fathom.cluster.local') } };
  const a = hub.requestInit(inbound);
  const b = hub.requestInit(inbound);
  hub.responseEnd(b, 0, undefined, 8);
  const ids = events.map((e) => http(e)).map((h) => (h?.$case === 'requestInit' ? h.value.id?.stream : undefined));
  assert.deepEqual(ids.slice(0, 2), [1n, 2n]);
  assert.ok(a && b && a !== b);
  const end = http(events[2]!);
  assert.ok(end?.$case === 'responseEnd');
  assert.deepEqual(end.value.eos, { end: { $case: 'resetErrorCode', value: 8 } });
  assert.equal(end.value.sinceResponseInit, undefined, 'no response head was sent');
  assert.equal(events[0]!.proxyDirection, TapEvent_ProxyDirection.INBOUND);
  assert.deepEqual(events[0]!.sourceMeta?.labels, { tls: 'true', client_id: 'web.nodevoto.serviceaccount.identity.fathom.cluster.local' });
});

test('requests the match refuses are not reported and get no id', () => {
  const { hub, events } = setup({ match: (r) => r.path.startsWith('/api') });
  assert.equal(hub.requestInit(REQ), undefined);
  assert.ok(hub.requestInit({ ...REQ, path: '/api/list' }));
  assert.equal(events.length, 1);
});

test('headers and trailers only for a watcher that asked for them', () => {
  const { hub, events } = setup({ extractHeaders: true });
  const id = hub.requestInit(REQ);
  hub.responseInit(id, 200, { ':status': 200 } as unknown as Record<string, string>);
  hub.responseEnd(id, 0, 0, undefined, ['grpc-status', '0']);
  const [req, rsp, end] = events.map(http);
  assert.ok(req?.$case === 'requestInit' && rsp?.$case === 'responseInit' && end?.$case === 'responseEnd');
  const text = (h: { headers: { name: string; value: Buffer }[] } | undefined) => h?.headers.map((x) => `${x.name}=${x.value.toString()}`);
  assert.deepEqual(text(req.value.headers), ['content-type=application/grpc', 'te=trailers']);
  assert.deepEqual(text(rsp.value.headers), [':status=200']);
  assert.deepEqual(text(end.value.trailers), ['grpc-status=0']);
});

test('limit: after `limit` requests the watcher takes no more, reports the ones in flight, then is done', () => {
  const { hub, events, done } = setup({ limit: 2 });
  const a = hub.requestInit(REQ);
  const b = hub.requestInit(REQ);
  assert.equal(hub.active, false, 'the only watcher is full: the data path stops tapping');
  assert.equal(hub.requestInit(REQ), undefined);
  hub.responseEnd(a, 1);
  assert.equal(done(), 0, 'one request still in flight');
  hub.responseInit(b, 200);
  hub.responseEnd(b, 1);
  assert.equal(done(), 1);
  assert.equal(events.length, 5);
});

test('limit: a request that never ends does not hold the watcher past the drain timeout', async () => {
  const { hub, done } = setup({ limit: 1, drainTimeoutMs: 20 });
  hub.requestInit(REQ);
  assert.equal(done(), 0);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(done(), 1);
});

test('a watcher closed mid-request is removed and hears nothing more; others still do', () => {
  const { hub, events, watcher } = setup();
  const other: TapEvent[] = [];
  hub.watch({ match: ALL, limit: 10, extractHeaders: false, emit: (e) => other.push(e), done: () => {} });
  const id = hub.requestInit(REQ);
  watcher.close();
  watcher.close(); // idempotent
  assert.equal(hub.watcherCount, 1);
  hub.responseInit(id, 200);
  hub.responseEnd(id, 0);
  assert.equal(events.length, 1);
  assert.equal(other.length, 3);
});

test('a limit of 0 is refused', () => {
  assert.throws(() => new TapHub().watch({ match: ALL, limit: 0, extractHeaders: false, emit: () => {}, done: () => {} }), /limit must be positive/);
});

test('calls with no tap id are no-ops', () => {
  const hub = new TapHub();
  hub.responseInit(undefined, 200);
  hub.responseEnd(undefined, 0);
});
