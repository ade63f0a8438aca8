// A small client of Prometheus's HTTP API (/api/v1/query and /-/ready): instant queries evaluated at one
// time, results as plain samples, and every failure as a FathomError that names the URL and the query.
import { FathomError, errorCode, fetchErrorCode } from '../../lib/errors.js';

/** One element of an instant vector. `value` is NaN where PromQL says so (e.g. a quantile of nothing). */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What the metrics API needs from Prometheus; tests substitute canned answers. */
export interface PromQuerier {
  /**
   * Evaluates `promql` at `time` (ms since the epoch; Prometheus's own now when absent): an instant vector,
   * or a scalar as one sample without labels.
   */
  query(promql: string, time?: number): Promise<Sample[]>;
}

/** One series of a range query: its labels and its points, [seconds since the epoch, value]. */
export interface RangeSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

/** Range queries, for charts over time (the dashboard's series). */
export interface PromRangeQuerier {
  /** Evaluates `promql` at start, start + step, ... up to end (all in seconds since the epoch). */
  queryRange(promql: string, start: number, end: number, step: number): Promise<RangeSeries[]>;
}

interface QueryBody {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: unknown };
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class PrometheusClient implements PromQuerier, PromRangeQuerier {
  private readonly base: string;

  constructor(
    /** `http://127.0.0.1:9095`, with or without a trailing slash. */
    readonly url: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  async query(promql: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: promql });
    if (time !== undefined) params.set('time', (time / 1000).toFixed(3));
    const body = (await this.fetchJson(`/api/v1/query?${params}`, promql)) as QueryBody;
    if (body.status !== 'success' || !body.data) {
      throw new FathomError('EPROMETHEUS', `Prometheus refused the query ${promql}: ${body.errorType ?? 'error'}: ${body.error ?? 'no reason given'}`);
    }
    return parseResult(body.data.resultType, body.data.result);
  }

  async queryRange(promql: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const params = new URLSearchParams({ query: promql, start: start.toFixed(3), end: end.toFixed(3), step: String(step) });
    const body = (await this.fetchJson(`/api/v1/query_range?${params}`, promql)) as QueryBody;
    if (body.status !== 'success' || !body.data) {
      throw new FathomError('EPROMETHEUS', `Prometheus refused the range query ${promql}: ${body.errorType ?? 'error'}: ${body.error ?? 'no reason given'}`);
    }
    if (body.data.resultType !== 'matrix') throw new FathomError('EPROMETHEUS', `expected a range vector from Prometheus, got a ${body.data.resultType}`);
    return (body.data.result as { metric: Record<string, string>; values: [number, string][] }[]).map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => [t, Number(v)] as const),
    }));
  }

  /** True when Prometheus answers /-/ready with 200; otherwise the reason, as a string. */
  async ready(): Promise<true | string> {
    try {
      const res = await fetch(`${this.base}/-/ready`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer();
      return res.status === 200 ? true : `${this.base}/-/ready answered ${res.status}`;
    } catch (err) {
      return unreachable(this.base, err).message;
    }
  }

  private async fetchJson(path: string, promql: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw unreachable(this.base, err);
    }
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new FathomError('EPROMETHEUS', `Prometheus at ${this.base} answered ${res.status} with something other than JSON to ${promql}`);
    }
  }
}

/** The connection-level failure, with the errno that explains it (fetch hides it in `cause`). */
function unreachable(base: string, err: unknown): FathomError {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const code = fetchErrorCode(err);
  const why = code === 'TimeoutError' ? 'timed out' : (errorCode(cause) ?? (cause as Error).message);
  return new FathomError('EPROMETHEUS', `cannot reach Prometheus at ${base}: ${why}`, { cause: err });
}

/** Turns `data.result` into samples; Prometheus writes values as strings, including "NaN" and "+Inf". */
export function parseResult(resultType: string, result: unknown): Sample[] {
  if (resultType === 'scalar') {
    const [, value] = result as [number, string];
    return [{ labels: {}, value: Number(value) }];
  }
  if (resultType !== 'vector') throw new FathomError('EPROMETHEUS', `expected an instant vector from Prometheus, got a ${resultType}`);
  return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}
