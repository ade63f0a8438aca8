// The open-loop schedule: request i is due at start + i / rate, whatever happened to earlier requests.
// A due request waits in a queue until a sender has room for it, and its latency counts from the moment
// it was due, not from when it was sent (no coordinated omission: a stall shows as latency, as in wrk2).
// Requests due during warm-up are sent but not recorded; the run is bounded by its duration plus a drain
// deadline, after which requests still queued or in flight count as errors (timeouts).
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram.js';
import { epochNow, WorkerTicker } from './ticker.js';

/** Something that can start one request now, if it has room (a free connection, a stream slot). */
export interface Sender {
  /** Starts a request due at `due`; calls `done` exactly once. Returns false when it has no room now. */
  trySend(due: number, done: (due: number, ok: boolean) => void): boolean;
}

export interface OpenLoopOptions {
  readonly rate: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** How long, after the last request was due, the run waits for outstanding ones. */
  readonly drainMs: number;
  /** Called when the measured window opens and closes (the parent samples proxy CPU then). */
  readonly onPhase?: (phase: 'measuring' | 'measured') => void;
  /**
   * How the loop wakes for due requests: "worker" (default) a precise ticker thread (ticker.ts);
   * "timer" Node's 1 ms timers only, which send requests up to 1 ms late (the lag counts as latency).
   */
  readonly wake?: 'worker' | 'timer';
}

export interface OpenLoopResult {
  readonly latency: Histogram;
  /** Delay between a request's due time and its actual send: the generator's own lag. */
  readonly sendLag: Histogram;
  readonly ok: number;
  readonly errors: number;
  /** Of the errors, requests neither answered nor failed before the drain deadline. */
  readonly timeouts: number;
  readonly measuredMs: number;
}

export class OpenLoop {
  private readonly latency = new Histogram();
  private readonly sendLag = new Histogram();
  private readonly queue: number[] = [];
  private queueHead = 0;
  private next = 0; // index of the next request to become due
  private readonly total: number;
  private readonly warmupCount: number;
  private start = 0;
  private measureStart = 0;
  private measureEnd = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticker: WorkerTicker | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private outstanding = 0; // measured requests queued or in flight
  private ok = 0;
  private errors = 0;
  private phase: 'warmup' | 'measuring' | 'draining' | 'done' = 'warmup';
  private finish: ((r: OpenLoopResult) => void) | undefined;
  private readonly senders: Sender[] = [];
  private readonly onDone = (due: number, ok: boolean): void => this.complete(due, ok);

  constructor(private readonly opts: OpenLoopOptions) {
    if (!(opts.rate > 0)) throw new Error(`rate must be positive, got ${opts.rate}`);
    this.warmupCount = Math.round((opts.warmupMs / 1000) * opts.rate);
    this.total = this.warmupCount + Math.round((opts.durationMs / 1000) * opts.rate);
  }

  addSender(s: Sender): void {
    this.senders.push(s);
  }

  /** Runs the whole schedule; resolves after the drain. */
  run(): Promise<OpenLoopResult> {
    return new Promise((resolve) => {
      this.finish = resolve;
      // Start a little ahead so the ticker thread is running before the first request falls due.
      const lead = this.opts.wake === 'timer' ? 0 : 50;
      this.start = performance.now() + lead;
      this.measureStart = this.dueAt(this.warmupCount);
      this.measureEnd = this.dueAt(this.total);
      if (this.opts.wake !== 'timer') {
        this.ticker = new WorkerTicker();
        const ticker = this.ticker;
        ticker.start({ startEpochMs: epochNow() + lead, intervalMs: 1000 / this.opts.rate, count: this.total }, () => {
          if (this.next < this.total) ticker.arrive(this.dueAt(this.next));
          this.pump();
        });
      }
      if (this.warmupCount === 0) this.enterMeasuring();
      this.pump();
    });
  }

  private dueAt(i: number): number {
    return this.start + (i * 1000) / this.opts.rate;
  }

  private isMeasured(due: number): boolean {
    return due >= this.measureStart && due < this.measureEnd;
  }

  private enterMeasuring(): void {
    this.phase = 'measuring';
    this.opts.onPhase?.('measuring');
  }

  /** Moves every request due by now into the queue, then hands queued requests to senders with room. */
  pump = (): void => {
    if (this.phase === 'done') return;
    const now = performance.now();
    while (this.next < this.total && this.dueAt(this.next) <= now) {
      const due = this.dueAt(this.next);
      if (this.next === this.warmupCount && this.phase === 'warmup') this.enterMeasuring();
      if (this.isMeasured(due)) this.outstanding++;
      this.queue.push(due);
      this.next++;
    }
    this.dispatch(now);
    if (this.next >= this.total && this.phase === 'measuring' && now >= this.measureEnd) {
      this.phase = 'draining';
      this.opts.onPhase?.('measured');
      this.drainTimer = setTimeout(() => this.end(), this.opts.drainMs);
    }
    if (this.phase === 'draining' && this.outstanding === 0) {
      this.end();
      return;
    }
    this.arm(now);
  };

  private dispatch(now: number): void {
    let s = 0;
    while (this.queueHead < this.queue.length) {
      const due = this.queue[this.queueHead]!;
      let sent = false;
      // Round-robin over senders, starting where the last one left off.
      for (let tried = 0; tried < this.senders.length && !sent; tried++) {
        sent = this.senders[s]!.trySend(due, this.onDone);
        s = (s + 1) % this.senders.length;
      }
      if (!sent) break;
      if (this.isMeasured(due)) this.sendLag.record(now - due);
      this.queueHead++;
    }
    if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /**
   * One timer at a time, for the next due request (Node's timers have 1 ms resolution). With the worker
   * ticker it is only a safety net, a few milliseconds behind the ticker.
   */
  private arm(now: number): void {
    if (this.timer !== undefined) return;
    if (this.next >= this.total && this.phase !== 'measuring') return;
    // After the last due request, wake once more when the measured window closes.
    const at = this.next < this.total ? this.dueAt(this.next) : this.measureEnd;
    const wait = Math.max(1, Math.floor(at - now)) + (this.ticker ? 5 : 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, wait);
  }

  private complete(due: number, ok: boolean): void {
    if (this.phase === 'done') return;
    if (this.isMeasured(due)) {
      this.latency.record(performance.now() - due);
      if (ok) this.ok++;
      else this.errors++;
      this.outstanding--;
    }
    // A sender has room again: send what is due (this also keeps the send lag low at high rates).
    this.pump();
  }

  private end(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    if (this.timer) clearTimeout(this.timer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.ticker?.stop();
    // Whatever is still outstanding timed out: record its latency so far, a lower bound.
    const now = performance.now();
    let timeouts = 0;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const due = this.queue[i]!;
      if (this.isMeasured(due)) {
        this.latency.record(now - due);
        timeouts++;
      }
    }
    const inFlight = this.outstanding - timeouts;
    for (let i = 0; i < inFlight; i++) this.latency.record(now - this.measureEnd);
    timeouts += inFlight;
    this.finish?.({
      latency: this.latency,
      sendLag: this.sendLag,
      ok: this.ok,
      errors: this.errors + timeouts,
      timeouts,
      measuredMs: this.measureEnd - this.measureStart,
    });
  }
}
