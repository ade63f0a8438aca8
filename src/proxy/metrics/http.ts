// HTTP golden metrics for one label set: request_total, response_total and response_latency_ms, laid out
// as Linkerd does (latency per status code, response counts per status code and classification).
import { familyHeader, joinPairs, labelPair, sampleLine } from '../../lib/prom-text.js';
import { classify, type Classification } from './classify.js';
import { Histogram } from './histogram.js';
import { formatSeriesLabels, type CachedSeries, type Labels } from './series-cache.js';

export interface HttpResponse {
  /** The HTTP status sent to the client; 0 (or less) when no response head was sent at all. */
  statusCode: number;
  grpcStatus?: number;
  /** Time from request headers to the end of the response stream. */
  latencyMs: number;
  /** A short stream error code (e.g. `connect_refused`); classifies the response as a failure. */
  error?: string;
  /** Overrides the default rules (room for ServiceProfile response classes). */
  classification?: Classification;
}

export interface HttpSeries {
  /** Counts request_total; call when the request stream begins. */
  request(): void;
  /** Counts response_total and observes response_latency_ms; call when the response stream ends. */
  response(r: HttpResponse): void;
}

/** Labels this module adds itself; callers' labels of the same name are left out. */
const RESERVED: ReadonlySet<string> = new Set(['classification', 'status_code', 'grpc_status', 'error', 'le']);

/** The counts of one response class: a status code plus classification, gRPC status and error. */
class ClassCounter {
  count = 0;
  constructor(
    readonly classification: Classification,
    readonly grpcStatus: number | undefined,
    readonly error: string | undefined,
    /** Label pairs of response_total, formatted once. */
    readonly pairs: string,
  ) {}
}

/** Everything recorded for one HTTP status code. */
class StatusMetrics {
  readonly latency = new Histogram();
  readonly classes: ClassCounter[] = [];
  constructor(
    readonly statusCode: number,
    /** Label pairs of response_latency_ms, formatted once. */
    readonly pairs: string,
  ) {}
}

/** Hooks into the registry: its clock, and the way back in after an idle series was dropped. */
export interface HttpOwner {
  now(): number;
  revive(series: HttpSeriesImpl): HttpSeriesImpl;
}

export class HttpSeriesImpl implements HttpSeries, CachedSeries {
  evicted = false;
  updatedAt: number;
  requests = 0;
  /** Usually one to three entries, so a linear scan beats any map. */
  readonly byStatus: StatusMetrics[] = [];
  readonly pairs: string;

  constructor(
    labels: Labels,
    readonly canonicalKey: string,
    private readonly owner: HttpOwner,
  ) {
    this.pairs = formatSeriesLabels(labels, RESERVED);
    this.updatedAt = owner.now();
  }

  idle(): boolean {
    return true;
  }

  request(): void {
    const target = this.evicted ? this.owner.revive(this) : this;
    target.requests++;
    target.updatedAt = this.owner.now();
  }

  response(r: HttpResponse): void {
    if (this.evicted) {
      this.owner.revive(this).response(r);
      return;
    }
    const error = r.error === '' ? undefined : r.error;
    const classification = r.classification ?? classify(r.statusCode, r.grpcStatus, error);
    const status = this.statusMetrics(r.statusCode > 0 ? r.statusCode : 0);
    status.latency.observe(r.latencyMs);
    this.classCounter(status, classification, r.grpcStatus, error).count++;
    this.updatedAt = this.owner.now();
  }

  private statusMetrics(statusCode: number): StatusMetrics {
    for (const s of this.byStatus) if (s.statusCode === statusCode) return s;
    const pairs = statusCode > 0 ? joinPairs(this.pairs, labelPair('status_code', String(statusCode))) : this.pairs;
    const created = new StatusMetrics(statusCode, pairs);
    this.byStatus.push(created);
    return created;
  }

  private classCounter(
    status: StatusMetrics,
    classification: Classification,
    grpcStatus: number | undefined,
    error: string | undefined,
  ): ClassCounter {
    for (const c of status.classes) {
      if (c.classification === classification && c.grpcStatus === grpcStatus && c.error === error) return c;
    }
    const pairs = joinPairs(
      this.pairs,
      labelPair('classification', classification),
      status.statusCode > 0 ? labelPair('status_code', String(status.statusCode)) : '',
      grpcStatus !== undefined ? labelPair('grpc_status', String(grpcStatus)) : '',
      error !== undefined ? labelPair('error', error) : '',
    );
    const created = new ClassCounter(classification, grpcStatus, error, pairs);
    status.classes.push(created);
    return created;
  }
}

/** The three HTTP families over all series, each family's samples together as the format requires. */
export function renderHttp(series: readonly HttpSeriesImpl[]): string {
  if (series.length === 0) return '';
  let out = familyHeader('request_total', 'counter', 'Total count of HTTP requests.');
  for (const s of series) out += sampleLine('request_total', s.pairs, s.requests);

  let responses = '';
  let latencies = '';
  for (const s of series) {
    for (const status of s.byStatus) {
      for (const c of status.classes) responses += sampleLine('response_total', c.pairs, c.count);
      latencies += status.latency.render('response_latency_ms', status.pairs);
    }
  }
  if (responses !== '') out += familyHeader('response_total', 'counter', 'Total count of HTTP responses.') + responses;
  if (latencies !== '') {
    out +=
      familyHeader(
        'response_latency_ms',
        'histogram',
        "Elapsed times between a request's headers being received and its response stream completing, in milliseconds.",
      ) + latencies;
  }
  return out;
}
