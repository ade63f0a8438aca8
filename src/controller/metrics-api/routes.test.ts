// routes: per-route queries and the response_total fallback, exactly; rows with [DEFAULT].
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResult, type PromQuerier, type Sample } from './prometheus.js';
import { parseWindow, type Window } from './promql.js';
import { parseResource, type ResourceRef } from './resources.js';
import { fallbackQueries, routeQueries, routes, routesPlan, type RoutesPlan, type RoutesRequest } from './routes.js';

const W = parseWindow('1m') as Window;
const ref = (text: string) => parseResource(text) as ResourceRef;
const request = (resource: string, extra: Partial<RoutesRequest> = {}): RoutesRequest => ({
  resource: ref(resource), namespace: 'nodevoto', window: W, clusterDomain: 'cluster.local', ...extra,
});
const plan = (req: RoutesRequest) => routesPlan(req) as RoutesPlan;

test('deploy/NAME: inbound route metrics by rt_route and dst, else responses by authority', () => {
  const p = plan(request('deploy/web'));
  assert.equal(routeQueries(p, W).responses, 'sum(increase(route_response_total{deployment="web", direction="inbound", namespace="nodevoto"}[1m])) by (rt_route, dst, classification)');
  assert.equal(
    routeQueries(p, W).latency[0],
    'histogram_quantile(0.5, sum(irate(route_response_latency_ms_bucket{deployment="web", direction="inbound", namespace="nodevoto"}[1m])) by (le, rt_route, dst))',
  );
  assert.equal(fallbackQueries(p, W).responses, 'sum(increase(response_total{deployment="web", direction="inbound", namespace="nodevoto"}[1m])) by (authority, classification)');
  assert.equal(
    fallbackQueries(p, W).latency[2],
    'histogram_quantile(0.99, sum(irate(response_latency_ms_bucket{deployment="web", direction="inbound", namespace="nodevoto"}[1m])) by (le, authority))',
  );
});

test('svc/NAME matches the service by dst, or by any authority naming it; --to a service is outbound', () => {
  const p = plan(request('svc/web-svc'));
  assert.equal(routeQueries(p, W).responses, 'sum(increase(route_response_total{direction="inbound", dst=~"(web-svc\\\\.nodevoto\\\\.svc\\\\.cluster\\\\.local)(:\\\\d+)?"}[1m])) by (rt_route, dst, classification)');
  assert.equal(
    fallbackQueries(p, W).responses,
    'sum(increase(response_total{authority=~"web-svc(\\\\.nodevoto(\\\\.svc(\\\\.cluster\\\\.local)?)?)?(:\\\\d+)?", direction="inbound", namespace="nodevoto"}[1m])) by (authority, classification)',
  );
  const to = plan(request('deploy/web', { to: { ref: ref('svc/voting-svc'), namespace: 'nodevoto' } }));
  assert.equal(
    fallbackQueries(to, W).responses,
    'sum(increase(response_total{deployment="web", direction="outbound", dst_namespace="nodevoto", dst_service="voting-svc", namespace="nodevoto"}[1m])) by (authority, classification)',
  );
  assert.match(routesPlan(request('deploy')) as string, /one resource by name/);
  assert.match(routesPlan(request('deploy/web', { to: { ref: ref('deploy/x'), namespace: 'n' } })) as string, /--to takes a service/);
});

const vec = (metric: Record<string, string>, value: string) => ({ metric, value: [0, value] });

function canned(answers: Record<string, unknown[]>): PromQuerier {
  return { query: async (q: string): Promise<Sample[]> => parseResult('vector', answers[Object.keys(answers).find((k) => q.startsWith(k)) ?? ''] ?? []) };
}

test('without route metrics every request is in [DEFAULT], per authority', async () => {
  const a = { authority: 'web-svc.nodevoto:80' };
  const res = await routes(
    request('deploy/web'),
    canned({
      'sum(increase(response_total': [vec({ ...a, classification: 'success' }, '48'), vec({ ...a, classification: 'failure' }, '12')],
      'histogram_quantile(0.5, sum(irate(response_latency': [vec(a, '25')],
    }),
    0,
  );
  assert.equal(res.source, 'response_total');
  assert.equal(res.queries.length, 5);
  assert.deepEqual(res.rows, [{ route: '[DEFAULT]', authority: 'web-svc.nodevoto:80', success: 0.8, rps: 1, latency_ms_p50: 25, latency_ms_p95: null, latency_ms_p99: null }]);
});

test('with route metrics, rows are per route, unmatched requests last as [DEFAULT]', async () => {
  const dst = 'web-svc.nodevoto.svc.cluster.local:80';
  const res = await routes(
    request('deploy/web'),
    canned({
      'sum(increase(route_response_total': [
        vec({ rt_route: '', dst, classification: 'success' }, '6'),
        vec({ rt_route: 'GET /api/list', dst, classification: 'success' }, '60'),
      ],
    }),
    0,
  );
  assert.equal(res.source, 'route_response_total');
  assert.deepEqual(res.rows.map((r) => [r.route, r.rps]), [['GET /api/list', 1], ['[DEFAULT]', 0.1]]);
});
