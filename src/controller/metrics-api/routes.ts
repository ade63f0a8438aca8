// `routes`: success, RPS and latency per route of the traffic a resource serves (or sends --to a service).
// Per-route metrics (route_response_total, by rt_route and dst) come from service profiles; until a
// profile with routes exists there are none, and the same figures come from response_total by authority,
// every request in the `[DEFAULT]` route, as Linkerd shows requests no route matches.
import { FathomError } from '../../lib/errors.js';
import type { PromQuerier, Sample } from './prometheus.js';
import { eq, latencyQuery, QUANTILES, re, regexLiteral, responsesQuery, type Matcher, type Window } from './promql.js';
import { formatResource, kindLabel, type ResourceRef } from './resources.js';
import type { ScopedRef } from './stat.js';
import type { RouteRow, RoutesResponse } from './types.js';

export const DEFAULT_ROUTE = '[DEFAULT]';

export interface RoutesRequest {
  /** A deploy, pod or svc, by name. */
  readonly resource: ResourceRef;
  readonly namespace: string;
  /** Outbound traffic from the resource to this service, instead of the traffic it serves. */
  readonly to?: ScopedRef | undefined;
  readonly window: Window;
  /** The DNS suffix of services, to recognise their names in `dst` and `authority`. */
  readonly clusterDomain: string;
}

export interface RoutesPlan {
  /** Selects route_* series; grouped by rt_route and dst. */
  readonly routeMatchers: readonly Matcher[];
  /** Selects response_* series when there are no route metrics; grouped by authority. */
  readonly fallbackMatchers: readonly Matcher[];
}

/** `dst` as route metrics write it: the service's fully qualified name, with or without a port. */
function dstRegex(service: string, namespace: string, clusterDomain: string): string {
  return `(${regexLiteral(`${service}.${namespace}.svc.${clusterDomain}`)})(:\\d+)?`;
}

/** Any name a client may use for a service in the Host header: `svc`, `svc.ns`, `svc.ns.svc`, the FQDN, with a port. */
function authorityRegex(service: string, namespace: string, clusterDomain: string): string {
  return `${regexLiteral(service)}(\\.${regexLiteral(namespace)}(\\.svc(\\.${regexLiteral(clusterDomain)})?)?)?(:\\d+)?`;
}

export function routesPlan(req: RoutesRequest): RoutesPlan | string {
  const { resource, namespace, to, clusterDomain } = req;
  if (resource.name === undefined) return `routes needs one resource by name, such as deploy/web or svc/web-svc (got ${formatResource(resource)})`;
  if (resource.kind !== 'deployment' && resource.kind !== 'pod' && resource.kind !== 'service') return `routes takes a deploy, pod or svc (got ${formatResource(resource)})`;
  if (resource.kind === 'service') {
    if (to) return '--to applies to a deploy or pod: the traffic a service receives is already its routes';
    return {
      routeMatchers: [eq('direction', 'inbound'), re('dst', dstRegex(resource.name, namespace, clusterDomain))],
      fallbackMatchers: [eq('direction', 'inbound'), eq('namespace', namespace), re('authority', authorityRegex(resource.name, namespace, clusterDomain))],
    };
  }
  const source = [eq('namespace', namespace), eq(kindLabel(resource.kind), resource.name)];
  if (!to) return { routeMatchers: [eq('direction', 'inbound'), ...source], fallbackMatchers: [eq('direction', 'inbound'), ...source] };
  if (to.ref.kind !== 'service' || to.ref.name === undefined) return `--to takes a service by name, such as svc/voting-svc (got ${formatResource(to.ref)})`;
  return {
    routeMatchers: [eq('direction', 'outbound'), ...source, re('dst', dstRegex(to.ref.name, to.namespace, clusterDomain))],
    fallbackMatchers: [eq('direction', 'outbound'), ...source, eq('dst_namespace', to.namespace), eq('dst_service', to.ref.name)],
  };
}

export function routeQueries(plan: RoutesPlan, window: Window) {
  const group = ['rt_route', 'dst'];
  return {
    responses: responsesQuery('route_response_total', plan.routeMatchers, window, group, ['classification']),
    latency: QUANTILES.map((q) => latencyQuery(q, 'route_response_latency_ms', plan.routeMatchers, window, group)),
  };
}

export function fallbackQueries(plan: RoutesPlan, window: Window) {
  const group = ['authority'];
  return {
    responses: responsesQuery('response_total', plan.fallbackMatchers, window, group, ['classification']),
    latency: QUANTILES.map((q) => latencyQuery(q, 'response_latency_ms', plan.fallbackMatchers, window, group)),
  };
}

/** Rows from the answers: keyed by (route, authority); a missing or empty rt_route is `[DEFAULT]`. */
export function routeRows(responses: readonly Sample[], latency: readonly (readonly Sample[])[], window: Window, routeMetrics: boolean): RouteRow[] {
  const keyOf = (s: Sample) => ({
    route: routeMetrics ? s.labels['rt_route'] || DEFAULT_ROUTE : DEFAULT_ROUTE,
    authority: (routeMetrics ? s.labels['dst'] : s.labels['authority']) ?? '',
  });
  const rows = new Map<string, { route: string; authority: string; success: number; failure: number; latency: (number | null)[] }>();
  const row = (s: Sample) => {
    const { route, authority } = keyOf(s);
    const k = `${route}\n${authority}`;
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { route, authority, success: 0, failure: 0, latency: [null, null, null] }));
    return r;
  };
  for (const s of responses) {
    const r = row(s);
    if (s.labels['classification'] === 'success') r.success += Math.round(s.value);
    else r.failure += Math.round(s.value);
  }
  latency.forEach((samples, i) => {
    for (const s of samples) row(s).latency[i] = Number.isFinite(s.value) ? s.value : null;
  });
  return [...rows.values()]
    .sort((a, b) => a.authority.localeCompare(b.authority) || (a.route === DEFAULT_ROUTE ? 1 : b.route === DEFAULT_ROUTE ? -1 : a.route.localeCompare(b.route)))
    .map((r) => {
      const total = r.success + r.failure;
      return {
        route: r.route,
        authority: r.authority,
        success: total > 0 ? r.success / total : null,
        rps: total / window.seconds,
        latency_ms_p50: r.latency[0] ?? null,
        latency_ms_p95: r.latency[1] ?? null,
        latency_ms_p99: r.latency[2] ?? null,
      };
    });
}

export async function routes(req: RoutesRequest, prometheus: PromQuerier, now: number): Promise<RoutesResponse> {
  const plan = routesPlan(req);
  if (typeof plan === 'string') throw new FathomError('EBADREQUEST', plan);
  const run = (promql: string) => prometheus.query(promql, now);
  const routed = routeQueries(plan, req.window);
  const routeResponses = await run(routed.responses);
  const useRoutes = routeResponses.length > 0;
  const q = useRoutes ? routed : fallbackQueries(plan, req.window);
  const [responses, ...latency] = await Promise.all([useRoutes ? routeResponses : run(q.responses), ...q.latency.map(run)]);
  return {
    window: req.window.text,
    source: useRoutes ? 'route_response_total' : 'response_total',
    rows: routeRows(responses!, latency, req.window, useRoutes),
    queries: useRoutes ? [q.responses, ...q.latency] : [routed.responses, q.responses, ...q.latency],
  };
}
