// `stat`: golden metrics per resource, as Linkerd computes them (reference/linkerd-model.md §7): which
// labels select the traffic (inbound, or outbound with --to/--from, services always outbound), the PromQL
// that counts it, and the rows assembled from Prometheus's answers plus the platform's pod counts.
import { FathomError } from '../../lib/errors.js';
import { countPods, countService, type Inventory, type ResourceCount } from './inventory.js';
import type { PromQuerier, Sample } from './prometheus.js';
import { eq, latencyQuery, QUANTILES, responsesQuery, tcpBytesQuery, tcpConnectionsQuery, type Matcher, type Window } from './promql.js';
import { dstLabel, kindLabel, type ResourceRef } from './resources.js';
import type { StatResponse, StatRow } from './types.js';

/** A resource in a namespace, as --from and --to name it. */
export interface ScopedRef {
  readonly ref: ResourceRef;
  readonly namespace: string;
}

export interface StatRequest {
  readonly resource: ResourceRef;
  /** Ignored with allNamespaces, and for namespaces themselves. */
  readonly namespace: string;
  readonly allNamespaces: boolean;
  readonly from?: ScopedRef | undefined;
  readonly to?: ScopedRef | undefined;
  readonly window: Window;
}

/** How the request turns into queries, and where a result's row is found in its labels. */
export interface StatPlan {
  readonly matchers: readonly Matcher[];
  readonly groupBy: readonly string[];
  /** TCP metrics: `src` for connections the proxy accepted (inbound), `dst` for those it opened. */
  readonly tcpPeer: 'src' | 'dst';
  readonly namespaceLabel: string;
  readonly nameLabel: string;
}

/**
 * Selects one side of a connection: `namespace`/`deployment` for the source, `dst_*` for the destination.
 * An unnamed resource matches any resource of its kind: the grouping takes care of that on the side the
 * rows are about, while the other side (--from/--to) needs the label to be present.
 */
function side(ref: ResourceRef, namespace: string | undefined, dst: boolean, other = false): Matcher[] {
  const nsLabel = dst ? 'dst_namespace' : 'namespace';
  if (ref.kind === 'namespace') return ref.name !== undefined ? [eq(nsLabel, ref.name)] : namespace !== undefined ? [eq(nsLabel, namespace)] : [];
  const label = dst ? dstLabel(ref.kind) : kindLabel(ref.kind);
  const out = namespace !== undefined ? [eq(nsLabel, namespace)] : [];
  if (ref.name !== undefined) out.push(eq(label, ref.name));
  else if (other) out.push({ name: label, op: '!=', value: '' });
  return out;
}

function groupOf(kind: ResourceRef['kind'], dst: boolean): string[] {
  const nsLabel = dst ? 'dst_namespace' : 'namespace';
  return kind === 'namespace' ? [nsLabel] : [nsLabel, dst ? dstLabel(kind) : kindLabel(kind)];
}

/** The plan for a request, or a message saying why the combination makes no sense. */
export function statPlan(req: StatRequest): StatPlan | string {
  const { resource, from, to } = req;
  if (from && to) return '--from and --to cannot be used together';
  if (resource.kind === 'authority' && (from || to)) return 'authorities are stat-ed from inbound traffic only: --from and --to do not apply';
  if (from?.ref.kind === 'authority' || to?.ref.kind === 'authority') return '--from and --to take a deploy, pod, ns or svc, not an authority';
  if (from?.ref.kind === 'service') return '--from takes a deploy, pod or ns: a service sends no traffic';
  // Namespaces are listed across the cluster; -n scopes the other kinds.
  const ns = req.allNamespaces || resource.kind === 'namespace' ? undefined : req.namespace;

  if (resource.kind === 'service') {
    if (to) return '--to does not apply to services: they are always stat-ed from the outbound side, use --from';
    const matchers = [eq('direction', 'outbound'), ...side(resource, ns, true)];
    if (from) matchers.push(...side(from.ref, from.namespace, false, true));
    return { matchers, groupBy: groupOf('service', true), tcpPeer: 'dst', namespaceLabel: 'dst_namespace', nameLabel: 'dst_service' };
  }
  const nameLabel = (dst: boolean) => (resource.kind === 'namespace' ? (dst ? 'dst_namespace' : 'namespace') : dst ? dstLabel(resource.kind) : kindLabel(resource.kind));
  if (from) {
    const matchers = [eq('direction', 'outbound'), ...side(from.ref, from.namespace, false, true), ...side(resource, ns, true)];
    return { matchers, groupBy: groupOf(resource.kind, true), tcpPeer: 'dst', namespaceLabel: 'dst_namespace', nameLabel: nameLabel(true) };
  }
  if (to) {
    const matchers = [eq('direction', 'outbound'), ...side(resource, ns, false), ...side(to.ref, to.namespace, true, true)];
    return { matchers, groupBy: groupOf(resource.kind, false), tcpPeer: 'dst', namespaceLabel: 'namespace', nameLabel: nameLabel(false) };
  }
  const matchers = [eq('direction', 'inbound'), ...side(resource, ns, false)];
  return { matchers, groupBy: groupOf(resource.kind, false), tcpPeer: 'src', namespaceLabel: 'namespace', nameLabel: nameLabel(false) };
}

export interface StatQueries {
  readonly responses: string;
  readonly latency: readonly [string, string, string];
  readonly tcpConnections: string;
  readonly readBytes: string;
  readonly writeBytes: string;
}

export function statQueries(plan: StatPlan, window: Window): StatQueries {
  const { matchers, groupBy } = plan;
  const tcp = [...matchers, eq('peer', plan.tcpPeer)];
  const [p50, p95, p99] = QUANTILES.map((q) => latencyQuery(q, 'response_latency_ms', matchers, window, groupBy));
  return {
    responses: responsesQuery('response_total', matchers, window, groupBy),
    latency: [p50!, p95!, p99!],
    tcpConnections: tcpConnectionsQuery(tcp, groupBy),
    readBytes: tcpBytesQuery('read', tcp, window, groupBy),
    writeBytes: tcpBytesQuery('write', tcp, window, groupBy),
  };
}

/** Prometheus's answers to the queries of StatQueries, in the same fields. */
export interface StatResults {
  readonly responses: readonly Sample[];
  readonly latency: readonly [readonly Sample[], readonly Sample[], readonly Sample[]];
  readonly tcpConnections: readonly Sample[];
  readonly readBytes: readonly Sample[];
  readonly writeBytes: readonly Sample[];
}

interface Acc {
  namespace: string;
  name: string;
  count: ResourceCount | undefined;
  success: number;
  failure: number;
  sawResponses: boolean;
  latency: [number | null, number | null, number | null];
  tcp: number | null;
  read: number | null;
  write: number | null;
}

/** NaN and infinities (a quantile of nothing, a quantile past the last bucket) mean "no figure". */
const finite = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * Rows for a request: every resource the platform knows in scope (without --from/--to, which show only
 * resources with traffic), plus every resource that Prometheus reports. SUCCESS and RPS follow Linkerd:
 * each sample is rounded to a whole count first, RPS is responses over the window.
 */
export function statRows(req: StatRequest, plan: StatPlan, results: StatResults, inventory: Inventory): StatRow[] {
  const kind = req.resource.kind;
  const counts = kind === 'service' || kind === 'authority' ? undefined : countPods(inventory, kind);
  const inScope = (namespace: string, name: string) =>
    (req.resource.name === undefined || req.resource.name === name) &&
    (kind === 'namespace' || req.allNamespaces || namespace === req.namespace);
  const countOf = (namespace: string, name: string): ResourceCount | undefined =>
    kind === 'service' ? countService(inventory, namespace, name) : (counts?.get(`${namespace}/${name}`) ?? (counts && { namespace, name, meshed: 0, running: 0 }));

  const rows = new Map<string, Acc>();
  const row = (namespace: string, name: string): Acc => {
    const k = `${namespace}/${name}`;
    let acc = rows.get(k);
    if (!acc) {
      acc = { namespace, name, count: countOf(namespace, name), success: 0, failure: 0, sawResponses: false, latency: [null, null, null], tcp: null, read: null, write: null };
      rows.set(k, acc);
    }
    return acc;
  };
  if (!req.from && !req.to) {
    for (const c of counts?.values() ?? []) if (inScope(c.namespace, c.name)) row(c.namespace, c.name);
    if (kind === 'service' && req.resource.name !== undefined && !req.allNamespaces && countOf(req.namespace, req.resource.name)) row(req.namespace, req.resource.name);
  }
  const each = (samples: readonly Sample[], fn: (acc: Acc, value: number, s: Sample) => void) => {
    for (const s of samples) {
      const name = s.labels[plan.nameLabel];
      if (!name) continue; // traffic of no resource of this kind (e.g. pods without a deployment)
      const namespace = kind === 'namespace' ? name : (s.labels[plan.namespaceLabel] ?? '');
      // The selector already scopes the answer; this keeps rows right whatever Prometheus returns.
      if (inScope(namespace, name)) fn(row(namespace, name), s.value, s);
    }
  };
  each(results.responses, (acc, value, s) => {
    acc.sawResponses = true;
    const n = Math.round(value);
    if (s.labels['classification'] === 'success') acc.success += n;
    else acc.failure += n;
  });
  results.latency.forEach((samples, i) => each(samples, (acc, value) => (acc.latency[i] = finite(value))));
  each(results.tcpConnections, (acc, value) => (acc.tcp = (acc.tcp ?? 0) + value));
  each(results.readBytes, (acc, value) => (acc.read = (acc.read ?? 0) + value / req.window.seconds));
  each(results.writeBytes, (acc, value) => (acc.write = (acc.write ?? 0) + value / req.window.seconds));

  return [...rows.values()]
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
    .map((acc) => {
      const total = acc.success + acc.failure;
      return {
        namespace: acc.namespace,
        kind,
        name: acc.name,
        meshed: acc.count?.meshed ?? null,
        running: acc.count?.running ?? null,
        success: total > 0 ? acc.success / total : null,
        rps: acc.sawResponses ? total / req.window.seconds : null,
        latency_ms_p50: acc.latency[0],
        latency_ms_p95: acc.latency[1],
        latency_ms_p99: acc.latency[2],
        tcp_open_connections: acc.tcp,
        read_bytes_per_sec: acc.read,
        write_bytes_per_sec: acc.write,
      };
    });
}

/** Runs a stat request against Prometheus at one evaluation time. Throws FathomError for a bad request. */
export async function stat(req: StatRequest, prometheus: PromQuerier, inventory: Inventory, now: number): Promise<StatResponse> {
  const plan = statPlan(req);
  if (typeof plan === 'string') throw new FathomError('EBADREQUEST', plan);
  const q = statQueries(plan, req.window);
  const run = (promql: string) => prometheus.query(promql, now);
  const [responses, p50, p95, p99, tcpConnections, readBytes, writeBytes] = await Promise.all([
    run(q.responses),
    ...q.latency.map(run),
    run(q.tcpConnections),
    run(q.readBytes),
    run(q.writeBytes),
  ]);
  const results: StatResults = { responses: responses!, latency: [p50!, p95!, p99!], tcpConnections: tcpConnections!, readBytes: readBytes!, writeBytes: writeBytes! };
  return {
    window: req.window.text,
    rows: statRows(req, plan, results, inventory),
    queries: [q.responses, ...q.latency, q.tcpConnections, q.readBytes, q.writeBytes],
  };
}
