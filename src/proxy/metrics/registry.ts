// The proxy's metrics registry: hands out cheap per-label-set handles to the data path and renders every
// family as Prometheus text on scrape, dropping series that have been idle too long.
import { HttpSeriesImpl, renderHttp, type HttpOwner, type HttpSeries } from './http.js';
import { readProcessSnapshot, renderProcess, type ProcessSnapshot } from './process.js';
import { SeriesCache, type Labels } from './series-cache.js';
import { renderTcp, TcpSeries, type TcpConnectionMetrics, type TcpOwner } from './tcp.js';

export type { Classification } from './classify.js';
export type { HttpResponse, HttpSeries } from './http.js';
export type { Labels } from './series-cache.js';
export type { TcpConnectionMetrics } from './tcp.js';

export interface ProxyMetricsOptions {
  /** Milliseconds clock (default Date.now); tests inject their own. */
  now?: () => number;
  /** Series with no update for longer than this are dropped at render (default 10 min, as Linkerd). */
  retainIdleMs?: number;
  /** The proxy_build_info version label (default "dev"). */
  version?: string;
  /** Source of the process_* figures (default: /proc, with a Node fallback); tests inject fixed figures. */
  process?: () => ProcessSnapshot;
}

export const DEFAULT_RETAIN_IDLE_MS = 10 * 60_000;

export class ProxyMetrics {
  private readonly now: () => number;
  private readonly retainIdleMs: number;
  private readonly version: string;
  private readonly processSnapshot: () => ProcessSnapshot;
  private readonly tcpSeries: SeriesCache<TcpSeries>;
  private readonly httpSeries: SeriesCache<HttpSeriesImpl>;

  constructor(opts: ProxyMetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.retainIdleMs = opts.retainIdleMs ?? DEFAULT_RETAIN_IDLE_MS;
    this.version = opts.version ?? 'dev';
    this.processSnapshot = opts.process ?? (() => readProcessSnapshot());
    const tcpOwner: TcpOwner = { now: this.now, revive: (s) => this.tcpSeries.revive(s) };
    const httpOwner: HttpOwner = { now: this.now, revive: (s) => this.httpSeries.revive(s) };
    this.tcpSeries = new SeriesCache((labels, key) => new TcpSeries(labels, key, tcpOwner));
    this.httpSeries = new SeriesCache((labels, key) => new HttpSeriesImpl(labels, key, httpOwner));
  }

  /**
   * A new connection: counts tcp_open_total and tcp_open_connections for `labels`; the handle counts the
   * rest. Like http(), this is fastest when the caller reuses one labels object per target; a labels object
   * must not be changed once passed in.
   */
  tcpOpen(labels: Labels): TcpConnectionMetrics {
    return this.tcpSeries.get(labels).connect();
  }

  /**
   * The handle for one HTTP label set; callers may keep it. Cached by label set (~0.6 µs for a new labels
   * object of five labels) and by labels object (~20 ns when the same object is passed again).
   */
  http(labels: Labels): HttpSeries {
    return this.httpSeries.get(labels);
  }

  private readonly collectors: Array<() => string> = [];

  /** Adds families rendered at every scrape after the built-in ones (e.g. identity certificate figures). */
  addCollector(render: () => string): void {
    this.collectors.push(render);
  }

  /** The full text exposition (format 0.0.4). Idle series are dropped first, so they are not shown. */
  render(): string {
    const now = this.now();
    this.tcpSeries.expire(now, this.retainIdleMs);
    this.httpSeries.expire(now, this.retainIdleMs);
    return (
      renderHttp([...this.httpSeries.values()]) +
      renderTcp([...this.tcpSeries.values()]) +
      renderProcess(this.processSnapshot(), this.version) +
      this.collectors.map((c) => c()).join('')
    );
  }
}
