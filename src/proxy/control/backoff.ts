// When to try the control plane again after a failure: exponential backoff with jitter, on timers that
// tests can replace. Shared by the destination streams and the identity client.

/** The timer functions the control-plane clients use; the default is Node's, unref'd. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  // Unref'd: a pending retry or idle timer must never keep a stopping proxy alive.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BackoffOptions {
  /** First delay (Linkerd's control-plane clients: 100 ms). */
  minMs?: number;
  /** Largest delay (10 s). */
  maxMs?: number;
  /**
   * Fraction of each delay that is random, 0..1 (default 0.5): a delay is in [base × (1 − jitter), base].
   * After a controller restart every proxy reconnects at once; jitter spreads them out.
   */
  jitter?: number;
  /** Uniform in [0, 1), like Math.random; injected so tests are deterministic. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_MIN_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 10_000;

/** Delays that double from `minMs` up to `maxMs` at each consecutive failure, until `reset()` after a success. */
export class Backoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.minMs = options.minMs ?? DEFAULT_BACKOFF_MIN_MS;
    this.maxMs = Math.max(this.minMs, options.maxMs ?? DEFAULT_BACKOFF_MAX_MS);
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    // 2^failures overflows nothing that matters: the cap applies long before.
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  /** Consecutive failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}
