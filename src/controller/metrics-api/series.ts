// `series`: one resource's golden metrics over time (success rate, request rate with and without mTLS,
// latency p50/p95/p99, open TCP connections), from Prometheus range queries, for the dashboard's charts.
// The traffic is selected exactly as `stat` selects it (inbound to the resource); the answer is columnar
// (one timestamp array, one value array per metric, null where there is no figure), as charts want it.
import { parseDuration } from '../../lib/duration.js';
import { FathomError } from '../../lib/errors.js';
import type { PromRangeQuerier, RangeSeries } from './prometheus.js';
import { eq, QUANTILES, selector, type Matcher } from './promql.js';
import type { ResourceRef } from './resources.js';
import { statPlan } from './stat.js';
import type { SeriesResponse } from './types.js';

export interface SeriesRequest {
  /** A named deployment, pod or namespace. */
  readonly resource: ResourceRef;
  readonly namespace: string;
  /** How far back from `end` the series reach, seconds. */
  readonly rangeSeconds: number;
}

/** From a minute to Prometheus's retention on the local platform (6 h). */
export const MIN_RANGE_SECONDS = 60;
export const MAX_RANGE_SECONDS = 6 * 3600;
export const DEFAULT_RANGE = '15m';
/** About this many points per chart, whatever the range: enough for a smooth line, cheap to draw. */
const POINTS = 180;
/** Rates need a few scrapes (the local platform scrapes every 5 s) inside their window. */
const MIN_RATE_WINDOW_SECONDS = 30;

/** Parses `range` (`5m`, `1h`...). Errors are messages naming the input. */
export function parseRange(text: string): number | string {
  const ms = parseDuration(text);
  if (typeof ms === 'string') return `range ${ms}`;
  const seconds = Math.round(ms / 1000);
  if (seconds < MIN_RANGE_SECONDS || seconds > MAX_RANGE_SECONDS) return `range "${text}" must lie between 1m and 6h`;
  return seconds;
}

export interface SeriesPlan {
  readonly step: number;
  readonly rateWindow: string;
  readonly responses: string;
  readonly latency: readonly [string, string, string];
  readonly tcpConnections: string;
}

/** The step (seconds, a whole number) and the PromQL of a request. */
export function seriesPlan(req: SeriesRequest): SeriesPlan {
  if (req.resource.name === undefined) throw new FathomError('EBADREQUEST', 'series are for one resource: give deploy/NAME, pod/NAME or ns/NAME');
  if (req.resource.kind !== 'deployment' && req.resource.kind !== 'pod' && req.resource.kind !== 'namespace') {
    throw new FathomError('EBADREQUEST', `series are for deployments, pods and namespaces (got ${req.resource.kind})`);
  }
  const plan = statPlan({ resource: req.resource, namespace: req.namespace, allNamespaces: false, window: { text: '1m', seconds: 60 } });
  if (typeof plan === 'string') throw new FathomError('EBADREQUEST', plan);
  const step = Math.max(5, Math.ceil(req.rangeSeconds / POINTS));
  const rateWindow = `${Math.max(MIN_RATE_WINDOW_SECONDS, 4 * step)}s`;
  const sel = (extra: readonly Matcher[] = []) => selector([...plan.matchers, ...extra]);
  const [p50, p95, p99] = QUANTILES.map(
    (q) => `histogram_quantile(${q}, sum(rate(response_latency_ms_bucket${sel()}[${rateWindow}])) by (le))`,
  );
  return {
    step,
    rateWindow,
    responses: `sum(rate(response_total${sel()}[${rateWindow}])) by (classification, tls)`,
    latency: [p50!, p95!, p99!],
    tcpConnections: `sum(tcp_open_connections${sel([eq('peer', plan.tcpPeer)])})`,
  };
}

/** Answers from Prometheus, in the plan's order. */
export interface SeriesResults {
  readonly responses: readonly RangeSeries[];
  readonly latency: readonly [readonly RangeSeries[], readonly RangeSeries[], readonly RangeSeries[]];
  readonly tcpConnections: readonly RangeSeries[];
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** Columns on the grid start, start + step, ... end; gaps (no scrape, no traffic) are null. */
export function seriesColumns(start: number, end: number, step: number, results: SeriesResults): Omit<SeriesResponse, 'resource' | 'namespace' | 'range_seconds' | 'step_seconds' | 'rate_window' | 'queries'> {
  const timestamps: number[] = [];
  for (let t = start; t <= end + 1e-6; t += step) timestamps.push(Math.round(t));
  const index = new Map(timestamps.map((t, i) => [t, i]));
  const column = () => timestamps.map((): number | null => null);
  const at = (t: number) => index.get(Math.round(t));

  const ok = column();
  const all = column();
  const tls = column();
  const plain = column();
  const add = (col: (number | null)[], i: number, v: number) => (col[i] = (col[i] ?? 0) + v);
  for (const s of results.responses) {
    const success = s.labels['classification'] === 'success';
    const secured = s.labels['tls'] === 'true';
    for (const [t, v] of s.points) {
      const i = at(t);
      if (i === undefined || !Number.isFinite(v)) continue;
      add(all, i, v);
      if (success) add(ok, i, v);
      add(secured ? tls : plain, i, v);
    }
  }
  // With traffic in one TLS class only, the other is a true zero wherever there was traffic at all.
  for (let i = 0; i < timestamps.length; i++) {
    if (all[i] === null) continue;
    tls[i] ??= 0;
    plain[i] ??= 0;
    ok[i] ??= 0;
  }
  const single = (series: readonly RangeSeries[]) => {
    const col = column();
    for (const s of series) for (const [t, v] of s.points) {
      const i = at(t);
      if (i !== undefined) col[i] = finite(v);
    }
    return col;
  };
  return {
    timestamps,
    success: all.map((total, i) => (total !== null && total > 0 ? (ok[i] ?? 0) / total : null)),
    rps_tls: tls,
    rps_plain: plain,
    latency_ms_p50: single(results.latency[0]),
    latency_ms_p95: single(results.latency[1]),
    latency_ms_p99: single(results.latency[2]),
    tcp_open_connections: single(results.tcpConnections),
  };
}

/** Runs a series request ending at `now` (ms since the epoch). */
export async function series(req: SeriesRequest, prometheus: PromRangeQuerier, now: number): Promise<SeriesResponse> {
  const plan = seriesPlan(req);
  // The grid is aligned to the step, so that successive polls of the same range share their points.
  const end = Math.floor(now / 1000 / plan.step) * plan.step;
  const start = end - Math.floor(req.rangeSeconds / plan.step) * plan.step;
  const run = (promql: string) => prometheus.queryRange(promql, start, end, plan.step);
  const [responses, p50, p95, p99, tcp] = await Promise.all([run(plan.responses), ...plan.latency.map(run), run(plan.tcpConnections)]);
  return {
    resource: `${req.resource.kind}/${req.resource.name ?? ''}`,
    namespace: req.namespace,
    range_seconds: end - start,
    step_seconds: plan.step,
    rate_window: plan.rateWindow,
    ...seriesColumns(start, end, plan.step, { responses: responses!, latency: [p50!, p95!, p99!], tcpConnections: tcp! }),
    queries: [plan.responses, ...plan.latency, plan.tcpConnections],
  };
}
