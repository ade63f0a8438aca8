// Holds one logical service's endpoints and publishes them as immutable pickers: discovery updates swap
// the snapshot while the data path keeps picking from whichever snapshot it read (grpc-js style).
import { DEFAULT_DECAY_MS, DEFAULT_RTT_MS, monotonicClock, type Clock } from './peak-ewma.js';
import { DEFAULT_UNAVAILABLE_MS, EndpointState, Picker, Slot, type PickerConfig } from './picker.js';

/** Linkerd's failfast: how long a request waits for a service with no endpoints before it is answered 503. */
export const DEFAULT_FAILFAST_MS = 3_000;

export interface BalancerOptions {
  clock?: Clock;
  random?: () => number;
  initialRttMs?: number;
  decayMs?: number;
  /** How long `Pick.markUnavailable()` skips an endpoint by default. */
  unavailableMs?: number;
}

interface Waiter<E> {
  resolve(picker: Picker<E> | undefined): void;
  timer: ReturnType<typeof setTimeout>;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * P2C over Peak-EWMA for one set of endpoints of type `E`, told apart by `keyOf(endpoint)` (an address such
 * as `10.0.0.1:8080`). Usage on the data path:
 *
 *   const pick = balancer.picker.pick() ?? (await balancer.waitForEndpoints())?.pick();
 *   if (!pick) → 503 after failfast
 *   const handle = pick.start(); ...connect... on failure: pick.markUnavailable(); handle.cancel()
 *   ...at first response headers/data: handle.done()
 */
export class Balancer<E> {
  private readonly config: PickerConfig;
  private states = new Map<string, EndpointState>();
  private current: Picker<E>;
  private waiters = new Set<Waiter<E>>();
  private closed = false;

  constructor(
    private readonly keyOf: (endpoint: E) => string,
    options: BalancerOptions = {},
  ) {
    this.config = {
      clock: options.clock ?? monotonicClock,
      random: options.random ?? Math.random,
      initialRttMs: options.initialRttMs ?? DEFAULT_RTT_MS,
      decayMs: options.decayMs ?? DEFAULT_DECAY_MS,
      unavailableMs: options.unavailableMs ?? DEFAULT_UNAVAILABLE_MS,
    };
    this.current = new Picker<E>([], this.config);
  }

  /** The snapshot to pick from now. Read it per request; don't hold it across updates. */
  get picker(): Picker<E> {
    return this.current;
  }

  /**
   * Replaces the endpoint set. Endpoints whose key persists keep their load and unavailability (their `E`
   * value is replaced, so changed metadata such as labels is picked up); new keys start at the initial RTT;
   * removed keys are no longer picked, while requests in flight on them finish normally through their
   * handles. A key listed twice counts once (the first). Waiters are released when the set is non-empty.
   */
  update(endpoints: readonly E[]): void {
    if (this.closed) return;
    const slots: Slot<E>[] = [];
    const next = new Map<string, EndpointState>();
    for (const endpoint of endpoints) {
      const key = this.keyOf(endpoint);
      if (next.has(key)) continue;
      const state = this.states.get(key) ?? new EndpointState(this.config);
      next.set(key, state);
      slots.push(new Slot(endpoint, key, state));
    }
    this.states = next;
    this.current = new Picker(slots, this.config);
    if (slots.length > 0) this.release(this.current);
  }

  /**
   * Resolves with a non-empty picker: at once when there is one, else at the next update that brings
   * endpoints. Resolves `undefined` after `timeoutMs` (the failfast timeout: the caller answers 503), when
   * `signal` aborts (the client went away) or when the balancer is closed. Never rejects, so callers on the
   * data path need no try/catch; one timer per waiting request, and only while the service has no endpoints.
   */
  waitForEndpoints(timeoutMs = DEFAULT_FAILFAST_MS, signal?: AbortSignal): Promise<Picker<E> | undefined> {
    if (this.current.size > 0) return Promise.resolve(this.current);
    if (this.closed || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter<E> = {
        resolve,
        signal,
        onAbort: undefined,
        timer: setTimeout(() => this.settle(waiter, undefined), timeoutMs),
      };
      if (signal) {
        waiter.onAbort = () => this.settle(waiter, undefined);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.add(waiter);
    });
  }

  /** How many requests are waiting for endpoints (for tests and diagnostics). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Stops the balancer (its service is no longer used): waiters get `undefined`, later updates are ignored. */
  close(): void {
    this.closed = true;
    this.current = new Picker<E>([], this.config);
    this.states.clear();
    this.release(undefined);
  }

  private release(picker: Picker<E> | undefined): void {
    const waiters = this.waiters;
    if (waiters.size === 0) return;
    this.waiters = new Set();
    for (const waiter of waiters) this.settle(waiter, picker, false);
  }

  private settle(waiter: Waiter<E>, picker: Picker<E> | undefined, remove = true): void {
    if (remove && !this.waiters.delete(waiter)) return; // already settled
    clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(picker);
  }
}
