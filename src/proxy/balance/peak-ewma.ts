// One endpoint's load as the balancer sees it: a peak-sensitive moving average of its latency times the
// requests waiting on it (Linkerd's Peak-EWMA, model §5, after tower's `load::peak_ewma`).

/** Milliseconds from a monotonic source; injected so tests move time by hand. */
export interface Clock {
  now(): number;
}

export const monotonicClock: Clock = { now: () => performance.now() };

/** Linkerd's figures: a new endpoint is assumed to answer in 30 ms, and the estimate forgets with a 10 s time constant. */
export const DEFAULT_RTT_MS = 30;
export const DEFAULT_DECAY_MS = 10_000;

/**
 * Peak-EWMA: a slower-than-estimated response raises the estimate to it at once (the "peak"), faster ones
 * pull it down gradually, weighted by how long ago the last update was. Reading the load also decays the
 * estimate toward 0 with the time since the last update, so an endpoint that was slow long ago (and hence
 * avoided) is tried again rather than starved forever. Not thread-safe by design: the proxy is one thread.
 */
export class PeakEwma {
  /** Requests started and not yet completed. */
  pending = 0;
  private estimateMs: number;
  private stampMs: number;

  constructor(
    private readonly clock: Clock,
    initialRttMs = DEFAULT_RTT_MS,
    private readonly decayMs = DEFAULT_DECAY_MS,
  ) {
    this.estimateMs = initialRttMs;
    this.stampMs = clock.now();
  }

  /**
   * The cost P2C compares: the decayed RTT estimate × (pending + 1). `now` lets a caller that already read
   * the clock pass it on: a clock read (performance.now) costs ~40 ns, a good part of a pick.
   */
  load(now = this.clock.now()): number {
    return this.update(now, 0) * (this.pending + 1);
  }

  /** The decayed RTT estimate in ms (decays the stored estimate, as reading the load does). */
  rttEstimate(): number {
    return this.update(this.clock.now(), 0);
  }

  /** A request was sent to this endpoint. */
  start(): void {
    this.pending++;
  }

  /** A request finished with observed latency `rttMs`: count it out and fold the latency into the estimate. */
  complete(rttMs: number, now = this.clock.now()): void {
    if (this.pending > 0) this.pending--;
    this.update(now, rttMs > 0 ? rttMs : 0);
  }

  /** A request finished without a latency worth learning from (e.g. cancelled before it was sent). */
  abandon(): void {
    if (this.pending > 0) this.pending--;
  }

  private update(now: number, rttMs: number): number {
    // A clock that steps backwards (only possible with a fake or wall clock) must not grow the estimate.
    if (now < this.stampMs) return this.estimateMs;
    if (rttMs > this.estimateMs) {
      this.estimateMs = rttMs;
    } else {
      const w = Math.exp(-(now - this.stampMs) / this.decayMs);
      this.estimateMs = this.estimateMs * w + rttMs * (1 - w);
    }
    this.stampMs = now;
    return this.estimateMs;
  }
}
