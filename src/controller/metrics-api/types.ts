// The metrics API's JSON contract (docs/observability.md): what /api/v1/stat, /routes, /edges and /checks
// answer. The CLI and the dashboard read these shapes; a change here is a change of a public API.

/** Resource kinds the API groups by (Linkerd's names, singular). */
export type ResourceKind = 'deployment' | 'pod' | 'namespace' | 'service' | 'authority';

/** One row of `stat`. Every figure is null when the resource had no traffic in the window. */
export interface StatRow {
  readonly namespace: string;
  readonly kind: ResourceKind;
  readonly name: string;
  /** Meshed pods among `running`; null for kinds that are not made of pods (authority). */
  readonly meshed: number | null;
  readonly running: number | null;
  /** Successful responses over all responses, 0 to 1. */
  readonly success: number | null;
  /** Responses per second over the window. */
  readonly rps: number | null;
  readonly latency_ms_p50: number | null;
  readonly latency_ms_p95: number | null;
  readonly latency_ms_p99: number | null;
  readonly tcp_open_connections: number | null;
  readonly read_bytes_per_sec: number | null;
  readonly write_bytes_per_sec: number | null;
}

export interface StatResponse {
  /** The window as given to Prometheus (`1m`, `15s`). */
  readonly window: string;
  readonly rows: readonly StatRow[];
  /** The PromQL behind every number above, in the order they were run. */
  readonly queries: readonly string[];
}

/** One row of `routes`: a route of a service (`[DEFAULT]` for requests that match none). */
export interface RouteRow {
  readonly route: string;
  /** The authority (or, with route metrics, the service's `dst`) the requests were for. */
  readonly authority: string;
  readonly success: number | null;
  readonly rps: number | null;
  readonly latency_ms_p50: number | null;
  readonly latency_ms_p95: number | null;
  readonly latency_ms_p99: number | null;
}

export interface RoutesResponse {
  readonly window: string;
  /** Which metric the rows come from: per-route metrics, or plain response metrics while no profile has routes. */
  readonly source: 'route_response_total' | 'response_total';
  readonly rows: readonly RouteRow[];
  readonly queries: readonly string[];
}

/** One open edge between two resources: connections from `src` to `dst`. */
export interface EdgeRow {
  readonly kind: ResourceKind;
  readonly src: string;
  readonly src_namespace: string;
  readonly dst: string;
  readonly dst_namespace: string;
  /** The connections are mutual TLS. */
  readonly secured: boolean;
  /** Why they are not, as the proxy says (`loopback`, `not_provided_by_service_discovery`, `disabled`...). */
  readonly no_tls_reason: string | null;
  readonly client_id: string | null;
  readonly server_id: string | null;
  readonly tcp_open_connections: number;
}

export interface EdgesResponse {
  readonly rows: readonly EdgeRow[];
  readonly queries: readonly string[];
}

export type CheckResult = 'success' | 'warning' | 'error';

export interface CheckLine {
  readonly description: string;
  readonly result: CheckResult;
  /** What went wrong, for warnings and errors. */
  readonly error?: string;
  /** What to do about it, for warnings and errors. */
  readonly hint?: string;
}

export interface CheckCategoryResult {
  readonly name: string;
  readonly checks: readonly CheckLine[];
}

export interface ChecksResponse {
  /** No check ended in `error` (warnings do not fail). */
  readonly success: boolean;
  readonly categories: readonly CheckCategoryResult[];
}

/** Every non-2xx answer of the API. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export interface VersionResponse {
  readonly version: string;
  readonly platform: string;
}

/**
 * `series`: one resource's golden metrics over time, as columns on one time grid. Every value array has
 * the length of `timestamps`; null where Prometheus has no figure (no traffic, no scrape yet).
 */
export interface SeriesResponse {
  /** `deployment/web`, `pod/web-0`, `namespace/nodevoto`. */
  readonly resource: string;
  readonly namespace: string;
  readonly range_seconds: number;
  readonly step_seconds: number;
  /** The window each point's rate and quantiles are computed over (`30s`...). */
  readonly rate_window: string;
  /** Seconds since the epoch, every `step_seconds`. */
  readonly timestamps: readonly number[];
  /** Successful responses over all responses, 0 to 1. */
  readonly success: readonly (number | null)[];
  /** Responses per second that arrived over mTLS, and the rest. */
  readonly rps_tls: readonly (number | null)[];
  readonly rps_plain: readonly (number | null)[];
  readonly latency_ms_p50: readonly (number | null)[];
  readonly latency_ms_p95: readonly (number | null)[];
  readonly latency_ms_p99: readonly (number | null)[];
  readonly tcp_open_connections: readonly (number | null)[];
  readonly queries: readonly string[];
}

/** One pod of `pods`. */
export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  /** The deployment that owns it, or null. */
  readonly deployment: string | null;
  readonly ip: string | null;
  /** Running and ready (for a meshed pod, its proxy too). */
  readonly ready: boolean;
  readonly meshed: boolean;
}

export interface PodsResponse {
  readonly pods: readonly PodInfo[];
}
