// Wakes the load generator's event loop when requests fall due, with sub-millisecond precision. Node's
// timers have 1 ms resolution, so a timer-driven schedule sends each request 0–1 ms late (p50 ≈ 0.5 ms
// measured here), which on loopback is more than the latency of the server itself. A worker thread
// sleeps on a futex (Atomics.wait, which takes fractional milliseconds) until each due time and then
// posts one message; a flag in shared memory coalesces ticks the main thread has not consumed yet, so
// at high rates it costs less than one wake-up per request.
// Waking a thread and then the event loop takes 0.1–0.25 ms on this VM, so the worker wakes that much
// early (the `advance`, tuned by the main thread from how late ticks arrive) and the main thread spins
// the remaining few microseconds, within a budget of 5 % of wall time.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

export interface TickerPlan {
  /** The first due time, as performance.timeOrigin + performance.now() (comparable across threads). */
  readonly startEpochMs: number;
  readonly intervalMs: number;
  /** Ticks at indexes 0..count (count + 1 ticks: the last marks the end of the schedule). */
  readonly count: number;
}

const SPIN_MAX_MS = 0.3;
const SPIN_BUDGET = 0.05;
const ADVANCE_MAX_US = 400;
/** What the controller aims for: ticks arriving this early, spun away. */
const TARGET_EARLY_US = 20;

export class WorkerTicker {
  private worker: Worker | undefined;
  /** [0] a tick is pending, [1] stop, [2] advance in µs. */
  private readonly flag = new Int32Array(new SharedArrayBuffer(12));
  private advanceUs = 150;
  private spunMs = 0;
  private readonly began = performance.now();

  /**
   * Called by the main thread on each tick with the next due time (performance.now() clock): spins
   * until it if it is near, and tunes how early the worker wakes.
   */
  arrive(due: number): void {
    let now = performance.now();
    const errorUs = (now - due) * 1000; // > 0: the tick came late
    this.advanceUs = Math.min(ADVANCE_MAX_US, Math.max(0, this.advanceUs + 0.2 * (errorUs + TARGET_EARLY_US)));
    Atomics.store(this.flag, 2, Math.round(this.advanceUs));
    if (due > now && due - now < SPIN_MAX_MS && this.spunMs < SPIN_BUDGET * (now - this.began)) {
      const from = now;
      while (now < due) now = performance.now();
      this.spunMs += now - from;
    }
  }

  start(plan: TickerPlan, onTick: () => void): void {
    Atomics.store(this.flag, 2, this.advanceUs);
    this.worker = new Worker(new URL('./ticker-worker.js', import.meta.url), { workerData: { plan, flag: this.flag } });
    this.worker.on('message', () => {
      Atomics.store(this.flag, 0, 0);
      onTick();
    });
    this.worker.on('error', (err) => {
      throw err;
    });
    this.worker.unref();
  }

  stop(): void {
    Atomics.store(this.flag, 1, 1); // asks the worker to stop
    Atomics.notify(this.flag, 1);
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
