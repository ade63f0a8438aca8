// Where the data path meets tap watchers. The exchanges read `hub.active` (a plain field, false when nobody
// watches, so an untapped request costs one property read) and, only when it is true, report a request's
// start, response head and end; the hub matches new requests against its watchers, counts each watcher's
// limit, and sends them TapEvents. A watcher is removed when its stream ends: nothing outlives it.
//
// Where the calls go (one exchange = one request; `tap` is the proxy's hub, `t` a local):
//   request head received, endpoint known  if (tap.active) t = tap.requestInit({ direction, source, destination, method, scheme, authority, path, headers })
//   response head written to the client    if (t) tap.responseInit(t, status, headers)   (also for responses the proxy makes up)
//   response body chunk written            if (t) bytes += chunk.length
//   response ended / reset / client gone   if (t) tap.responseEnd(t, bytes, grpcStatus, resetErrorCode, trailers)
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Headers } from '../../api/gen/fathom/http_types.js';
import type { TapEvent, TapEvent_Http_StreamId } from '../../api/gen/fathom/tap.js';
import { eventBase, headersToProto, requestInitEvent, responseEndEvent, responseInitEvent, type EventBase } from './event.js';
import type { Matcher } from './match.js';
import type { TapHeaders, TapRequest } from './request.js';

export interface TapWatch {
  readonly match: Matcher;
  /** How many requests to report (positive); once reached, no new request matches. */
  readonly limit: number;
  /** Include request and response headers and trailers. */
  readonly extractHeaders: boolean;
  /** Receives each event. Must not throw. */
  emit(event: TapEvent): void;
  /** The limit was reached and every reported request ended (or the drain timeout passed): end the stream. */
  done(): void;
}

export interface TapWatcher {
  /** Removes the watcher (its stream ended); idempotent. Its in-flight requests report nothing more. */
  close(): void;
}

export interface TapHubOptions {
  /** Milliseconds, fractional; injectable for tests. */
  readonly now?: () => number;
  /** The StreamId base; random per process by default. */
  readonly base?: number;
  /**
   * After its limit, a watcher waits this long at most for its requests to end before it is done: one
   * long-lived stream (a gRPC watch) must not hold the controller's next observation back forever.
   */
  readonly drainTimeoutMs?: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

class Watcher implements TapWatcher {
  remaining: number;
  inFlight = 0;
  closed = false;
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly watch: TapWatch,
    /** Takes it out of the hub's list of watchers taking requests. */
    private readonly detach: (w: Watcher) => void,
  ) {
    this.remaining = watch.limit;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.drainTimer);
    this.detach(this);
  }

  /** One of its requests ended (or it took its last one): done when nothing remains. */
  settle(drainTimeoutMs: number): void {
    if (this.closed || this.remaining > 0) return;
    if (this.inFlight === 0) this.finish();
    else if (this.drainTimer === undefined) this.drainTimer = setTimeout(() => this.finish(), drainTimeoutMs).unref();
  }

  private finish(): void {
    if (this.closed) return;
    this.close();
    this.watch.done();
  }
}

/**
 * A tapped request: what `requestInit` returns and the later calls take. It holds its own state (the
 * watchers it was reported to, its times), so a request the data path drops is simply garbage.
 */
export class TapId {
  responseAt: number | undefined = undefined;
  ended = false;

  constructor(
    readonly watchers: readonly Watcher[],
    readonly base: EventBase,
    readonly id: TapEvent_Http_StreamId,
    readonly startedAt: number,
  ) {}
}

export class TapHub {
  /** True while some watcher takes new requests. The data path reads this before anything else. */
  active = false;
  /** The StreamId base of this process's events. */
  readonly base: number;
  private stream = 0;
  /** Watchers taking new requests; replaced, never mutated, so iteration is safe against close(). */
  private watchers: readonly Watcher[] = [];
  private readonly now: () => number;
  private readonly drainTimeoutMs: number;

  constructor(options: TapHubOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.base = options.base ?? randomInt(0, 2 ** 32);
    this.drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  }

  /** Watchers currently taking requests (for tests and diagnostics). */
  get watcherCount(): number {
    return this.watchers.length;
  }

  /** Adds a watcher; `watch.limit` must be positive (the server refuses 0 before it gets here). */
  watch(watch: TapWatch): TapWatcher {
    if (!(watch.limit > 0)) throw new RangeError('limit must be positive');
    const watcher = new Watcher(watch, (w) => this.detach(w));
    this.watchers = [...this.watchers, watcher];
    this.active = true;
    return watcher;
  }

  private detach(watcher: Watcher): void {
    if (!this.watchers.includes(watcher)) return;
    this.watchers = this.watchers.filter((w) => w !== watcher);
    this.active = this.watchers.length > 0;
  }

  /**
   * A request's head arrived. Returns its TapId when some watcher took it (pass it to `responseInit` and
   * `responseEnd`), undefined otherwise. Call only when `active` is true.
   */
  requestInit(req: TapRequest): TapId | undefined {
    let matched: Watcher[] | undefined;
    for (const w of this.watchers) {
      if (w.remaining <= 0 || !w.watch.match(req)) continue;
      (matched ??= []).push(w);
      w.remaining--;
      w.inFlight++;
      if (w.remaining === 0) this.detach(w); // its last request: it takes no more, but reports this one
    }
    if (matched === undefined) return undefined;
    const base = eventBase(req);
    const id: TapEvent_Http_StreamId = { base: this.base, stream: BigInt(++this.stream) };
    let plain: TapEvent | undefined;
    let full: TapEvent | undefined;
    for (const w of matched) {
      if (w.watch.extractHeaders) w.watch.emit((full ??= requestInitEvent(base, id, req, true)));
      else w.watch.emit((plain ??= requestInitEvent(base, id, req, false)));
      if (w.remaining === 0) w.settle(this.drainTimeoutMs); // starts its drain timeout
    }
    return new TapId(matched, base, id, this.now());
  }

  /** The response head was sent to the client (including a response the proxy made up for an error). */
  responseInit(tap: TapId | undefined, status: number, headers?: TapHeaders): void {
    if (tap === undefined || tap.ended || tap.responseAt !== undefined) return;
    tap.responseAt = this.now();
    const since = tap.responseAt - tap.startedAt;
    let plain: TapEvent | undefined;
    let full: TapEvent | undefined;
    for (const w of tap.watchers) {
      if (w.closed) continue;
      if (w.watch.extractHeaders && headers !== undefined) w.watch.emit((full ??= responseInitEvent(tap.base, tap.id, since, status, headersToProto(headers))));
      else w.watch.emit((plain ??= responseInitEvent(tap.base, tap.id, since, status, undefined)));
    }
  }

  /**
   * The response stream ended, whichever way: completely (with `grpcStatus` when its trailers or headers
   * carried one), or reset (`resetErrorCode`, the HTTP/2 error code; 8, CANCEL, when the client left).
   * `bytes` counts the response body sent to the client. Call exactly once per TapId; later calls are ignored.
   */
  responseEnd(tap: TapId | undefined, bytes: number, grpcStatus?: number, resetErrorCode?: number, trailers?: TapHeaders): void {
    if (tap === undefined || tap.ended) return;
    tap.ended = true;
    const now = this.now();
    const end = {
      sinceRequestMs: now - tap.startedAt,
      sinceResponseMs: tap.responseAt === undefined ? undefined : now - tap.responseAt,
      bytes,
      grpcStatus,
      resetErrorCode,
      trailers: undefined as Headers | undefined,
    };
    let plain: TapEvent | undefined;
    let full: TapEvent | undefined;
    for (const w of tap.watchers) {
      w.inFlight--;
      if (w.closed) continue;
      if (w.watch.extractHeaders && trailers !== undefined) w.watch.emit((full ??= responseEndEvent(tap.base, tap.id, { ...end, trailers: headersToProto(trailers) })));
      else w.watch.emit((plain ??= responseEndEvent(tap.base, tap.id, end)));
      w.settle(this.drainTimeoutMs);
    }
  }
}
