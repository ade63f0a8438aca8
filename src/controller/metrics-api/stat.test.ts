// stat's PromQL, exactly, per kind and direction; and its rows computed from canned Prometheus answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../../platform/platform.js';
import type { Inventory } from './inventory.js';
import { parseResult, type PromQuerier, type Sample } from './prometheus.js';
import { parseWindow, type Window } from './promql.js';
import { parseResource, type ResourceRef } from './resources.js';
import { stat, statPlan, statQueries, type StatPlan, type StatRequest } from './stat.js';

const W1M = parseWindow('1m') as Window;
const ref = (text: string) => parseResource(text) as ResourceRef;

function request(resource: string, extra: Partial<StatRequest> = {}): StatRequest {
  return { resource: ref(resource), namespace: 'nodevoto', allNamespaces: false, window: W1M, ...extra };
}

function queries(req: StatRequest) {
  const plan = statPlan(req);
  assert.notEqual(typeof plan, 'string', String(plan));
  return statQueries(plan as StatPlan, req.window);
}

test('inbound deploy/NAME: Linkerd\'s four query shapes with direction="inbound" and the resource labels', () => {
  const q = queries(request('deploy/web'));
  const sel = '{deployment="web", direction="inbound", namespace="nodevoto"}';
  assert.equal(q.responses, `sum(increase(response_total${sel}[1m])) by (namespace, deployment, classification, tls)`);
  assert.deepEqual(q.latency, [
    `histogram_quantile(0.5, sum(irate(response_latency_ms_bucket${sel}[1m])) by (le, namespace, deployment))`,
    `histogram_quantile(0.95, sum(irate(response_latency_ms_bucket${sel}[1m])) by (le, namespace, deployment))`,
    `histogram_quantile(0.99, sum(irate(response_latency_ms_bucket${sel}[1m])) by (le, namespace, deployment))`,
  ]);
  const tcp = '{deployment="web", direction="inbound", namespace="nodevoto", peer="src"}';
  assert.equal(q.tcpConnections, `sum(tcp_open_connections${tcp}) by (namespace, deployment)`);
  assert.equal(q.readBytes, `sum(increase(tcp_read_bytes_total${tcp}[1m])) by (namespace, deployment)`);
  assert.equal(q.writeBytes, `sum(increase(tcp_write_bytes_total${tcp}[1m])) by (namespace, deployment)`);
});

test('every kind groups by its own label; -A drops the namespace; ns lists every namespace', () => {
  const cases: [StatRequest, string][] = [
    [request('pod'), 'sum(increase(response_total{direction="inbound", namespace="nodevoto"}[1m])) by (namespace, pod, classification, tls)'],
    [request('deploy', { allNamespaces: true }), 'sum(increase(response_total{direction="inbound"}[1m])) by (namespace, deployment, classification, tls)'],
    [request('ns'), 'sum(increase(response_total{direction="inbound"}[1m])) by (namespace, classification, tls)'],
    [request('ns/nodevoto'), 'sum(increase(response_total{direction="inbound", namespace="nodevoto"}[1m])) by (namespace, classification, tls)'],
    [
      request('authority/web-svc.nodevoto:80', { window: parseWindow('15s') as Window }),
      'sum(increase(response_total{authority="web-svc.nodevoto:80", direction="inbound", namespace="nodevoto"}[15s])) by (namespace, authority, classification, tls)',
    ],
  ];
  for (const [req, expected] of cases) assert.equal(queries(req).responses, expected);
});

test('services are measured outbound, grouped by dst_namespace and dst_service, with --from as the source', () => {
  const q = queries(request('svc/web-svc'));
  assert.equal(q.responses, 'sum(increase(response_total{direction="outbound", dst_namespace="nodevoto", dst_service="web-svc"}[1m])) by (dst_namespace, dst_service, classification, tls)');
  assert.equal(q.tcpConnections, 'sum(tcp_open_connections{direction="outbound", dst_namespace="nodevoto", dst_service="web-svc", peer="dst"}) by (dst_namespace, dst_service)');
  const from = queries(request('svc', { from: { ref: ref('deploy/vote-bot'), namespace: 'nodevoto' } }));
  assert.equal(
    from.responses,
    'sum(increase(response_total{deployment="vote-bot", direction="outbound", dst_namespace="nodevoto", namespace="nodevoto"}[1m])) by (dst_namespace, dst_service, classification, tls)',
  );
});

test('--to: outbound from the resource, with the destination as dst_* labels; --from: grouped by dst_*', () => {
  const to = queries(request('deploy/web', { to: { ref: ref('deploy/voting'), namespace: 'nodevoto' } }));
  assert.equal(
    to.responses,
    'sum(increase(response_total{deployment="web", direction="outbound", dst_deployment="voting", dst_namespace="nodevoto", namespace="nodevoto"}[1m])) by (namespace, deployment, classification, tls)',
  );
  assert.match(to.readBytes, /peer="dst"/);
  const toAny = queries(request('deploy', { to: { ref: ref('deploy'), namespace: 'other' } }));
  assert.equal(toAny.responses, 'sum(increase(response_total{direction="outbound", dst_deployment!="", dst_namespace="other", namespace="nodevoto"}[1m])) by (namespace, deployment, classification, tls)');
  const from = queries(request('deploy', { from: { ref: ref('deploy/web'), namespace: 'nodevoto' } }));
  assert.equal(
    from.latency[1],
    'histogram_quantile(0.95, sum(irate(response_latency_ms_bucket{deployment="web", direction="outbound", dst_namespace="nodevoto", namespace="nodevoto"}[1m])) by (le, dst_namespace, dst_deployment))',
  );
});

test('combinations that make no sense are refused with a reason', () => {
  const both = { from: { ref: ref('deploy/a'), namespace: 'x' }, to: { ref: ref('deploy/b'), namespace: 'x' } };
  assert.match(statPlan(request('deploy', both)) as string, /cannot be used together/);
  assert.match(statPlan(request('svc', { to: both.to })) as string, /--to does not apply to services/);
  assert.match(statPlan(request('authority', { from: both.from })) as string, /inbound traffic only/);
  assert.match(statPlan(request('deploy', { from: { ref: ref('svc/x'), namespace: 'x' } })) as string, /a service sends no traffic/);
});

test('label values are escaped in selectors', () => {
  assert.match(queries(request('authority/a"b\\c')).responses, /authority="a\\"b\\\\c"/);
});

// --- rows ---------------------------------------------------------------------------------------

/** Canned answers in Prometheus's JSON, keyed by the start of the query. */
function cannedPrometheus(answers: Record<string, unknown[]>): PromQuerier & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    async query(promql: string): Promise<Sample[]> {
      seen.push(promql);
      const key = Object.keys(answers).find((k) => promql.startsWith(k));
      return parseResult('vector', key ? answers[key] : []);
    },
  };
}

const vec = (metric: Record<string, string>, value: string) => ({ metric, value: [1700000000, value] });

function pod(name: string, deployment: string, meshed: boolean): Pod {
  return {
    namespace: 'nodevoto', name, ip: '198.18.0.2', node: 'local', labels: {}, annotations: {}, owner: { kind: 'Deployment', name: deployment },
    serviceAccount: deployment, ready: true, meshed, proxyInboundPort: meshed ? 4143 : undefined, opaquePorts: undefined, containerPorts: [],
  };
}

const inventory: Inventory = {
  pods: () => [pod('web-1', 'web', true), pod('web-2', 'web', true), pod('vote-bot-1', 'vote-bot', false), pod('emoji-1', 'emoji', true)],
  servicePods: () => undefined,
};

test('rows: success, RPS and latencies from the answers, MESHED from the platform, `null` without traffic', async () => {
  const web = { namespace: 'nodevoto', deployment: 'web' };
  const prom = cannedPrometheus({
    'sum(increase(response_total': [
      vec({ ...web, classification: 'success', tls: 'true' }, '959.6'),
      vec({ ...web, classification: 'failure', tls: 'true' }, '240.2'),
      // Traffic of a deployment the platform does not know any more still shows.
      vec({ namespace: 'nodevoto', deployment: 'old', classification: 'success', tls: 'disabled' }, '6'),
      // Pods without a deployment have no row.
      vec({ namespace: 'nodevoto', classification: 'success', tls: 'true' }, '50'),
    ],
    'histogram_quantile(0.5,': [vec(web, '12.5'), vec({ namespace: 'nodevoto', deployment: 'old' }, 'NaN')],
    'histogram_quantile(0.95,': [vec(web, '48')],
    'histogram_quantile(0.99,': [vec(web, '97.99')],
    'sum(tcp_open_connections': [vec(web, '3')],
    'sum(increase(tcp_read_bytes_total': [vec(web, '6000')],
  });
  const res = await stat(request('deploy'), prom, inventory, 1_700_000_000_000);
  assert.equal(prom.seen.length, 7);
  assert.deepEqual(res.queries, prom.seen);
  assert.deepEqual(
    res.rows.map((r) => [r.name, r.meshed, r.running]),
    [['emoji', 1, 1], ['old', 0, 0], ['vote-bot', 0, 1], ['web', 2, 2]],
  );
  const row = res.rows.find((r) => r.name === 'web')!;
  // Samples are rounded to whole requests first: 960 successes, 240 failures over 60 s.
  assert.equal(row.success, 0.8);
  assert.equal(row.rps, 20);
  assert.deepEqual([row.latency_ms_p50, row.latency_ms_p95, row.latency_ms_p99], [12.5, 48, 97.99]);
  assert.equal(row.tcp_open_connections, 3);
  assert.equal(row.read_bytes_per_sec, 100);
  assert.equal(row.write_bytes_per_sec, null);
  const quiet = res.rows.find((r) => r.name === 'vote-bot')!;
  assert.deepEqual([quiet.success, quiet.rps, quiet.latency_ms_p50, quiet.tcp_open_connections], [null, null, null, null]);
  const old = res.rows.find((r) => r.name === 'old')!;
  assert.deepEqual([old.success, old.rps, old.latency_ms_p50], [1, 0.1, null]);
});

test('rows: a named resource shows only itself; namespaces are rows of their own', async () => {
  const named = await stat(request('deploy/web'), cannedPrometheus({}), inventory, 0);
  assert.deepEqual(named.rows.map((r) => r.name), ['web']);
  const ns = await stat(request('ns'), cannedPrometheus({ 'sum(increase(response_total': [vec({ namespace: 'nodevoto', classification: 'success', tls: 'true' }, '60')] }), inventory, 0);
  assert.deepEqual(ns.rows.map((r) => [r.namespace, r.name, r.meshed, r.running, r.rps]), [['nodevoto', 'nodevoto', 3, 4, 1]]);
});

test('rows: services count their endpoints\' pods; --from shows only resources with traffic', async () => {
  const withService: Inventory = { ...inventory, servicePods: (_ns, name) => (name === 'web-svc' ? [pod('web-1', 'web', true), pod('web-2', 'web', false)] : undefined) };
  const prom = cannedPrometheus({
    'sum(increase(response_total': [vec({ dst_namespace: 'nodevoto', dst_service: 'web-svc', classification: 'success', tls: 'true' }, '30')],
  });
  const svc = await stat(request('svc'), prom, withService, 0);
  assert.deepEqual(svc.rows.map((r) => [r.kind, r.name, r.meshed, r.running, r.rps]), [['service', 'web-svc', 1, 2, 0.5]]);
  const from = await stat(request('deploy', { from: { ref: ref('deploy/vote-bot'), namespace: 'nodevoto' } }), cannedPrometheus({}), inventory, 0);
  assert.deepEqual(from.rows, []);
});

test('rows: a platform that cannot list pods leaves MESHED unknown instead of 0/0', async () => {
  const unlisted: Inventory = { pods: () => undefined, servicePods: () => undefined };
  const prom = cannedPrometheus({ 'sum(increase(response_total': [vec({ namespace: 'nodevoto', deployment: 'web', classification: 'success', tls: 'true' }, '60')] });
  const res = await stat(request('deploy'), prom, unlisted, 0);
  assert.deepEqual(res.rows.map((r) => [r.name, r.meshed, r.running, r.rps]), [['web', null, null, 1]]);
});
