// One destination stream shared by every user of the same key: it keeps the last known snapshot while the
// controller is away, reconnects with backoff, and lets each user watch it through its own lease.
import { status, type ClientReadableStream, type StatusObject } from '@grpc/grpc-js';
import { FathomError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { Backoff, type BackoffOptions, type Timers } from '../control/backoff.js';
import { describeGrpcError } from '../control/controller-channel.js';

/** A user's view of a discovery result. The data path reads `current` synchronously. */
export interface Watch<T> {
  /** The latest snapshot; undefined before the first answer, or when the target is not resolvable. */
  readonly current: T | undefined;
  /**
   * Why the controller refused the target (it answered INVALID_ARGUMENT): the address is not something
   * it can resolve, so the caller uses the original destination. Undefined otherwise.
   */
  readonly unresolvable: string | undefined;
  /**
   * Resolves with the current snapshot, at once when there is one, else with the first to arrive. Rejects
   * with FathomError EDISCOVERYTIMEOUT after `timeoutMs` (the failfast timeout; default the client's, 3 s)
   * when no answer came, or EUNRESOLVABLE when the controller refused the target.
   */
  ready(timeoutMs?: number): Promise<T>;
  /** Calls `listener` after each change (undefined: the target became unresolvable); returns unsubscribe. */
  onChange(listener: (snapshot: T | undefined) => void): () => void;
  /** This user is done: its listeners stop, and the stream closes once no user is left for the idle time. */
  release(): void;
}

/** What a shared stream needs to know about its RPC. */
export interface StreamSource<M, T> {
  /** For logs and errors, e.g. `GetProfile web.nodevoto.svc.cluster.local:80`. */
  readonly description: string;
  open(): ClientReadableStream<M>;
  /** The snapshot after `message`; `previous` undefined on the first message of each stream (replace). */
  reduce(previous: T | undefined, message: M): T | undefined;
}

export interface SharedStreamOptions {
  timers: Timers;
  backoff?: BackoffOptions;
  /** How long the stream stays open with no user, so that a quick re-use finds it warm. */
  idleMs: number;
  failfastMs: number;
  log: Logger;
  /** Called once the stream has closed for being idle (the cache forgets it). */
  onIdle(): void;
}

interface Waiter<T> {
  resolve(snapshot: T): void;
  reject(err: Error): void;
  timer: unknown;
}

export class SharedStream<M, T> {
  private snapshot: T | undefined;
  private refused: string | undefined;
  private readonly listeners = new Set<(snapshot: T | undefined) => void>();
  private readonly waiters = new Set<Waiter<T>>();
  private readonly backoff: Backoff;
  private call: ClientReadableStream<M> | undefined;
  /** The next message is the first of its stream, so it replaces the snapshot instead of changing it. */
  private fresh = true;
  private lastError: string | undefined;
  private retryTimer: unknown;
  private idleTimer: unknown;
  private users = 0;
  private closed = false;

  constructor(
    private readonly source: StreamSource<M, T>,
    private readonly options: SharedStreamOptions,
  ) {
    this.backoff = new Backoff(options.backoff);
    this.connect();
  }

  get current(): T | undefined {
    return this.snapshot;
  }

  get unresolvable(): string | undefined {
    return this.refused;
  }

  /** Whether an RPC is open (false while waiting to reconnect, when refused, or closed). */
  get connected(): boolean {
    return this.call !== undefined;
  }

  /** A new user: a lease that keeps the stream alive until released. */
  acquire(): Watch<T> {
    this.users++;
    if (this.idleTimer !== undefined) {
      this.options.timers.clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    return new Lease(this);
  }

  /** Cancels the RPC and every timer; pending `ready()` calls reject. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { timers } = this.options;
    if (this.retryTimer !== undefined) timers.clearTimeout(this.retryTimer);
    if (this.idleTimer !== undefined) timers.clearTimeout(this.idleTimer);
    this.cancelCall();
    this.listeners.clear();
    this.failWaiters(new FathomError('EDISCOVERYCLOSED', `${this.source.description}: the discovery client is closed`));
  }

  ready(timeoutMs = this.options.failfastMs): Promise<T> {
    if (this.snapshot !== undefined) return Promise.resolve(this.snapshot);
    if (this.refused !== undefined) return Promise.reject(this.refusedError());
    if (this.closed) return Promise.reject(new FathomError('EDISCOVERYCLOSED', `${this.source.description}: the discovery client is closed`));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, timer: undefined };
      waiter.timer = this.options.timers.setTimeout(() => {
        this.waiters.delete(waiter);
        const why = this.lastError ? `; last error: ${this.lastError}` : '';
        reject(new FathomError('EDISCOVERYTIMEOUT', `${this.source.description}: no answer from the controller within ${timeoutMs} ms${why}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  subscribe(listener: (snapshot: T | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One user is done; the last one starts the idle timer. */
  releaseOne(): void {
    this.users--;
    if (this.users > 0 || this.closed) return;
    this.idleTimer = this.options.timers.setTimeout(() => {
      this.idleTimer = undefined;
      this.options.log.debug('closing idle discovery stream', { target: this.source.description });
      this.close();
      this.options.onIdle();
    }, this.options.idleMs);
  }

  private connect(): void {
    this.retryTimer = undefined;
    if (this.closed) return;
    const call = this.source.open();
    this.call = call;
    this.fresh = true;
    call.on('data', (message: M) => {
      if (this.call === call) this.receive(message);
    });
    // Every end, error or not, also emits 'status', which decides what to do; this only keeps an
    // 'error' event from being unhandled.
    call.on('error', () => {});
    call.on('status', (s: StatusObject) => {
      if (this.call !== call) return; // cancelled by us: already forgotten
      this.call = undefined;
      this.ended(s);
    });
  }

  private receive(message: M): void {
    const next = this.source.reduce(this.fresh ? undefined : this.snapshot, message);
    if (next === undefined || (next === this.snapshot && !this.fresh)) return;
    if (this.lastError !== undefined) this.options.log.info('discovery stream restored', { target: this.source.description });
    this.fresh = false;
    this.lastError = undefined;
    this.backoff.reset();
    this.refused = undefined;
    this.snapshot = next;
    this.publish(next);
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) {
      this.options.timers.clearTimeout(waiter.timer);
      waiter.resolve(next);
    }
  }

  private ended(s: StatusObject): void {
    if (this.closed) return;
    if (s.code === status.INVALID_ARGUMENT) {
      // The controller says the target is not a destination it can resolve: asking again will not change
      // that, so stop and tell users to use the original destination.
      this.refused = s.details || 'invalid argument';
      this.snapshot = undefined;
      this.options.log.info('the controller cannot resolve this target; using the original destination', {
        target: this.source.description,
        reason: describeGrpcError(s),
      });
      this.publish(undefined);
      this.failWaiters(this.refusedError());
      return;
    }
    const delayMs = this.backoff.next();
    const reason = s.code === status.OK ? 'the controller ended the stream' : describeGrpcError(s);
    // Loud once per outage, quiet for the retries that follow.
    const level = this.lastError === undefined ? 'warn' : 'debug';
    this.options.log[level]('discovery stream lost; keeping the last known answer and reconnecting', {
      target: this.source.description,
      reason,
      retryInMs: delayMs,
    });
    this.lastError = reason;
    this.retryTimer = this.options.timers.setTimeout(() => this.connect(), delayMs);
  }

  private publish(snapshot: T | undefined): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(snapshot);
      } catch (err) {
        this.options.log.error('a discovery listener failed', { target: this.source.description, error: err as Error });
      }
    }
  }

  private cancelCall(): void {
    const call = this.call;
    this.call = undefined;
    call?.cancel();
  }

  private refusedError(): FathomError {
    return new FathomError('EUNRESOLVABLE', `${this.source.description}: the controller cannot resolve it: ${this.refused}`);
  }

  private failWaiters(err: Error): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) {
      this.options.timers.clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }
}

/** What a lease uses of its shared stream. */
interface Leased<T> {
  readonly current: T | undefined;
  readonly unresolvable: string | undefined;
  ready(timeoutMs?: number): Promise<T>;
  subscribe(listener: (snapshot: T | undefined) => void): () => void;
  releaseOne(): void;
}

/** One user's handle on a shared stream; `release` is idempotent. */
class Lease<T> implements Watch<T> {
  private unsubscribes: Array<() => void> = [];
  private released = false;

  constructor(private readonly stream: Leased<T>) {}

  get current(): T | undefined {
    return this.stream.current;
  }

  get unresolvable(): string | undefined {
    return this.stream.unresolvable;
  }

  ready(timeoutMs?: number): Promise<T> {
    return this.stream.ready(timeoutMs);
  }

  onChange(listener: (snapshot: T | undefined) => void): () => void {
    if (this.released) return () => {};
    const unsubscribe = this.stream.subscribe(listener);
    this.unsubscribes.push(unsubscribe);
    return unsubscribe;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    this.stream.releaseOne();
  }
}
