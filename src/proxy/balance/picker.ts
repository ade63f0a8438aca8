// An immutable snapshot of a balancer's endpoints that the data path calls synchronously to choose one
// endpoint per request (HTTP) or per connection (TCP) by power of two choices over Peak-EWMA (model §5).
import { PeakEwma, type Clock } from './peak-ewma.js';

/** How long an endpoint is skipped after a connect failure unless the caller says otherwise. */
export const DEFAULT_UNAVAILABLE_MS = 1_000;

/** Settings shared by every snapshot of one balancer. */
export interface PickerConfig {
  readonly clock: Clock;
  /** Uniform in [0, 1), like Math.random; injected so tests are deterministic. */
  readonly random: () => number;
  readonly initialRttMs: number;
  readonly decayMs: number;
  readonly unavailableMs: number;
}

/** One request's (or connection's) claim on an endpoint. Calling `done` or `cancel` more than once is harmless. */
export interface Handle {
  /**
   * The endpoint answered: count the request out and learn its latency. Callers decide the moment: HTTP
   * calls this at the first response headers/data (Linkerd's PendingUntilFirstData), TCP when the connection
   * is established or closed. Without `rttMs`, the time since `start()` on the balancer's clock is used.
   */
  done(rttMs?: number): void;
  /** The request ended with no latency worth learning (never sent, or a connect failure): count it out only. */
  cancel(): void;
}

/** The endpoint chosen by `Picker.pick()`. */
export interface Pick<E> {
  readonly endpoint: E;
  readonly key: string;
  /** Counts a request as pending on this endpoint until the returned handle is done. */
  start(): Handle;
  /**
   * Skip this endpoint for `forMs` (default 1 s) after a connect failure, while others are available. When
   * every endpoint is unavailable the picker still returns one: failing a request outright helps nobody.
   */
  markUnavailable(forMs?: number): void;
}

/** An endpoint's mutable state; kept across snapshots for as long as its key stays in the balancer. */
export class EndpointState {
  readonly ewma: PeakEwma;
  unavailableUntil = Number.NEGATIVE_INFINITY;

  constructor(readonly config: PickerConfig) {
    this.ewma = new PeakEwma(config.clock, config.initialRttMs, config.decayMs);
  }
}

// Allocation: a Slot lives as long as its snapshot, so a pick allocates nothing; `start()` allocates the one
// small InFlight below per request, which carries the start time and makes done() idempotent (a double
// done() must not drive `pending` down for other requests). Requests on endpoints removed by an update keep
// their Slot, so their handle still completes against the (now unreferenced) state.
class InFlight implements Handle {
  private open = true;

  constructor(
    private readonly state: EndpointState,
    private readonly startedAt: number,
  ) {}

  done(rttMs?: number): void {
    if (!this.open) return;
    this.open = false;
    const now = this.state.config.clock.now();
    this.state.ewma.complete(rttMs ?? now - this.startedAt, now);
  }

  cancel(): void {
    if (!this.open) return;
    this.open = false;
    this.state.ewma.abandon();
  }
}

/** An endpoint inside one snapshot. The snapshot never changes; the state behind it does. */
export class Slot<E> implements Pick<E> {
  constructor(
    readonly endpoint: E,
    readonly key: string,
    readonly state: EndpointState,
  ) {}

  start(): Handle {
    this.state.ewma.start();
    return new InFlight(this.state, this.state.config.clock.now());
  }

  markUnavailable(forMs = this.state.config.unavailableMs): void {
    this.state.unavailableUntil = this.state.config.clock.now() + forMs;
  }
}

/** A published, immutable set of endpoints. `pick()` is synchronous and allocation-free. */
export class Picker<E> {
  // Two distinct indexes, refilled by each twoDistinct() call so pick() allocates nothing; read at once.
  private readonly pair: [number, number] = [0, 0];

  constructor(
    private readonly slots: readonly Slot<E>[],
    private readonly config: PickerConfig,
  ) {}

  get size(): number {
    return this.slots.length;
  }

  /** The endpoints in this snapshot, in update order. */
  endpoints(): E[] {
    return this.slots.map((s) => s.endpoint);
  }

  /** The endpoint with this key, or undefined (a linear scan: for diagnostics and tests, not per request). */
  find(key: string): Pick<E> | undefined {
    return this.slots.find((s) => s.key === key);
  }

  /** Two distinct random endpoints, the cheaper one wins; one endpoint is returned as is; none gives undefined. */
  pick(): Pick<E> | undefined {
    const slots = this.slots;
    const n = slots.length;
    if (n <= 1) return slots[0];
    const now = this.config.clock.now();
    this.twoDistinct(n);
    const a = slots[this.pair[0]]!;
    const b = slots[this.pair[1]]!;
    if (a.state.unavailableUntil <= now && b.state.unavailableUntil <= now) return cheaper(a, b, now);
    // Rare path (a recent connect failure): P2C among the available endpoints only. Sampling a pair over all
    // endpoints and falling back here when either is unavailable still picks uniformly among available pairs.
    return this.pickAvailable(now);
  }

  private pickAvailable(now: number): Slot<E> {
    const slots = this.slots;
    let available = 0;
    for (const s of slots) if (s.state.unavailableUntil <= now) available++;
    if (available === 0) {
      const [i, j] = this.twoDistinct(slots.length);
      return cheaper(slots[i]!, slots[j]!, now);
    }
    if (available === 1) return this.nthAvailable(0, now);
    const [i, j] = this.twoDistinct(available);
    return cheaper(this.nthAvailable(i, now), this.nthAvailable(j, now), now);
  }

  private nthAvailable(nth: number, now: number): Slot<E> {
    let seen = 0;
    for (const s of this.slots) {
      if (s.state.unavailableUntil > now) continue;
      if (seen === nth) return s;
      seen++;
    }
    throw new Error('unreachable: fewer available endpoints than counted');
  }

  private twoDistinct(n: number): [number, number] {
    const i = Math.floor(this.config.random() * n);
    let j = Math.floor(this.config.random() * (n - 1));
    if (j >= i) j++;
    this.pair[0] = i;
    this.pair[1] = j;
    return this.pair;
  }
}

function cheaper<E>(a: Slot<E>, b: Slot<E>, now: number): Slot<E> {
  // `a` is already a random choice, so ties need no extra coin flip.
  return b.state.ewma.load(now) < a.state.ewma.load(now) ? b : a;
}
