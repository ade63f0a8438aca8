// One line of bench/results/latest.json: a scenario, a protocol and a rate, with the latency, throughput
// and the proxy's cost. Fields required by issue 9 come first; the rest explain the figures.
import type { Protocol } from '../scenarios/scenario.js';

export interface SearchStep {
  readonly rate: number;
  readonly p99_ms: number;
  readonly achieved_rps: number;
  readonly errors: number;
  /** CPU used by other jobs on the machine during the step, in % of one core. */
  readonly background_cpu_pct: number | null;
  readonly pass: boolean;
}

export interface ResultRow {
  readonly scenario: string;
  readonly protocol: Protocol;
  /** Offered rate in requests/s; for kind "max", the highest rate that passed the search. */
  readonly rate: number | null;
  readonly p50_ms: number | null;
  readonly p90_ms: number | null;
  readonly p99_ms: number | null;
  readonly p999_ms: number | null;
  readonly max_ms: number | null;
  readonly achieved_rps: number | null;
  readonly errors: number | null;
  /** Peak RSS under load (of the larger proxy when there are two); null for direct. */
  readonly proxy_rss_mb: number | null;
  /** CPU time (user + system) per 1000 requests, summed over the proxy's processes; null for direct. */
  readonly proxy_cpu_ms_per_1k: number | null;
  /** "fixed": a fixed-rate run; "max": the result of the max-sustainable-rate search; else why no figures. */
  readonly kind: 'fixed' | 'max' | 'pending' | 'failed';
  readonly proxy_rss_idle_mb: number | null;
  readonly loadgen_cpu_ms_per_1k: number | null;
  readonly backend_cpu_ms_per_1k: number | null;
  /** p99 of (actual send − due time): the load generator's own scheduling lag, already inside the latencies. */
  readonly send_lag_p99_ms: number | null;
  /**
   * CPU used on the machine by anything but this run's processes during the window, and CPU stolen by
   * the VM's host, in % of one core: high values mean the figures were disturbed.
   */
  readonly background_cpu_pct: number | null;
  readonly steal_cpu_pct: number | null;
  readonly note?: string;
  readonly search?: readonly SearchStep[];
}

export function emptyRow(scenario: string, protocol: Protocol, kind: 'pending' | 'failed', note: string, rate: number | null = null): ResultRow {
  return {
    scenario,
    protocol,
    rate,
    p50_ms: null,
    p90_ms: null,
    p99_ms: null,
    p999_ms: null,
    max_ms: null,
    achieved_rps: null,
    errors: null,
    proxy_rss_mb: null,
    proxy_cpu_ms_per_1k: null,
    kind,
    proxy_rss_idle_mb: null,
    loadgen_cpu_ms_per_1k: null,
    backend_cpu_ms_per_1k: null,
    send_lag_p99_ms: null,
    background_cpu_pct: null,
    steal_cpu_pct: null,
    note,
  };
}
