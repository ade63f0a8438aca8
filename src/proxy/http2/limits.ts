// The HTTP/2 limits every proxied connection lives under (hardening.md §3 items 14-21): the settings and
// nghttp2 options Node enforces natively, and our own per-connection budgets for what Node does not count
// (stream resets in both directions, PINGs, SETTINGS). A connection that overspends a budget gets
// GOAWAY(ENHANCE_YOUR_CALM) and is closed; other connections never notice.
import { constants, type ClientSessionOptions, type ServerHttp2Session, type ServerOptions } from 'node:http2';
import { FathomError } from '../../lib/errors.js';
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/log.js';

export interface Http2Limits {
  /** SETTINGS_MAX_HEADER_LIST_SIZE, decoded bytes (RFC 9113 §6.5.2: name + value + 32 per field). */
  readonly maxHeaderListSize: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise to clients. */
  readonly maxConcurrentStreams: number;
}

/** The protocol's default stream window, as Linkerd: bounds what one stream may buffer in the proxy. */
export const STREAM_WINDOW = 65_535;
/** Connection-level receive window, as Linkerd (1 MiB): bounds what one connection may buffer. */
export const CONNECTION_WINDOW = 1 << 20;
/** Header fields per block, pseudo-headers included (Node's default; Envoy allows 100). */
export const MAX_HEADER_LIST_PAIRS = 128;
/**
 * nghttp2 memory per session in MB, Node's unit (default 10). Upstream sessions multiplex the streams of
 * many client connections, so they get more room; past it Node refuses new streams.
 */
export const MAX_SESSION_MEMORY_MB = 64;
/** Entries in one SETTINGS frame (CVE-2020-11080); Node's default. */
export const MAX_SETTINGS_ENTRIES = 32;
/** PINGs we may have sent and not seen acknowledged. */
export const MAX_OUTSTANDING_PINGS = 10;
/** Frames nghttp2 judged invalid before the session is closed (Node's default is 1000; peers send none). */
export const MAX_INVALID_FRAMES = 100;
/** Streams refused (e.g. over the concurrency limit) before the session is closed; Node's default. */
export const MAX_REJECTED_STREAMS = 100;

/** After our FIN, how long a peer has to close its side before the socket is destroyed. */
export const FIN_LINGER_MS = 2000;

/**
 * Once a session is over, Node ends the socket and waits for the peer's FIN; a peer that never sends it
 * (a hung endpoint, an attacker) would hold the connection forever. Destroy it after FIN_LINGER_MS.
 */
export function closeAfterFin(socket: Socket): void {
  socket.once('finish', () => {
    if (!socket.destroyed) setTimeout(() => socket.destroy(), FIN_LINGER_MS).unref();
  });
}

export interface Budget {
  /** Events allowed at once. */
  readonly burst: number;
  /** Events allowed per second, sustained. */
  readonly perSecond: number;
}

/**
 * Stream resets by the client, and by us because of its frames (Rapid Reset, CVE-2023-44487, and
 * MadeYouReset, CVE-2025-8671, where a malformed frame makes *us* reset). Generous for clients that cancel calls (gRPC deadlines, hedging): a
 * hundred a second per connection, sustained; an attacker resetting at line rate is stopped after 200.
 * nghttp2's own limit (1000 burst, 33/s) stays behind it.
 */
export const RESET_BUDGET: Budget = { burst: 200, perSecond: 100 };
/** Received PINGs (CVE-2019-9512). gRPC's BDP estimation pings once per round trip while data flows. */
export const PING_BUDGET: Budget = { burst: 500, perSecond: 100 };
/** Received SETTINGS frames (CVE-2019-9515); a well-behaved peer sends a handful per connection. */
export const SETTINGS_BUDGET: Budget = { burst: 100, perSecond: 10 };

/** Options for the sessions we serve to clients (inbound from peers, outbound from the app). */
export function serverSessionOptions(limits: Http2Limits): ServerOptions {
  return {
    settings: {
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderListSize,
      initialWindowSize: STREAM_WINDOW,
      enablePush: false,
    },
    maxHeaderListPairs: MAX_HEADER_LIST_PAIRS,
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
    maxSettings: MAX_SETTINGS_ENTRIES,
    maxOutstandingPings: MAX_OUTSTANDING_PINGS,
    maxSessionInvalidFrames: MAX_INVALID_FRAMES,
    maxSessionRejectedStreams: MAX_REJECTED_STREAMS,
    // We forward header blocks up to the list size we accept (Node's default send limit is 64 KiB).
    maxSendHeaderBlockLength: Math.max(64 * 1024, limits.maxHeaderListSize),
  };
}

/** Options for the sessions we open to endpoints: the same limits, applied to what endpoints send back. */
export function clientSessionOptions(limits: Http2Limits): ClientSessionOptions {
  return {
    settings: {
      maxHeaderListSize: limits.maxHeaderListSize,
      initialWindowSize: STREAM_WINDOW,
      enablePush: false,
    },
    maxHeaderListPairs: MAX_HEADER_LIST_PAIRS,
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
    maxSettings: MAX_SETTINGS_ENTRIES,
    maxOutstandingPings: MAX_OUTSTANDING_PINGS,
    maxSendHeaderBlockLength: Math.max(64 * 1024, limits.maxHeaderListSize),
  };
}

/** A token bucket: `take()` is false once more than `burst` events came faster than `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly budget: Budget,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = budget.burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.budget.burst, this.tokens + ((t - this.last) / 1000) * this.budget.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Watches one served session against the budgets. Resets are reported by the stream handling
 * (`streamReset()`); PINGs and SETTINGS are counted from the session's events.
 */
export class SessionGuard {
  private readonly resets: TokenBucket;
  private readonly pings: TokenBucket;
  private readonly settings: TokenBucket;
  private tripped = false;

  constructor(
    private readonly session: ServerHttp2Session,
    private readonly log: Logger,
    now?: () => number,
  ) {
    this.resets = new TokenBucket(RESET_BUDGET, now);
    this.pings = new TokenBucket(PING_BUDGET, now);
    this.settings = new TokenBucket(SETTINGS_BUDGET, now);
    session.on('ping', () => {
      if (!this.pings.take()) this.calm('PING flood');
    });
    session.on('remoteSettings', () => {
      if (!this.settings.take()) this.calm('SETTINGS flood');
    });
  }

  /** A stream of this session ended in RST_STREAM, sent by the client or provoked by it. */
  streamReset(): void {
    if (!this.resets.take()) this.calm('too many stream resets');
  }

  /** GOAWAY(ENHANCE_YOUR_CALM), then close: Node sends the GOAWAY and flushes it before ending the socket. */
  private calm(reason: string): void {
    if (this.tripped || this.session.destroyed) return;
    this.tripped = true;
    const s = this.session.socket;
    this.log.info('closing HTTP/2 connection that exceeded a limit', { reason, peer: s ? `${s.remoteAddress}:${s.remotePort}` : undefined });
    // The code travels only with an error object: destroy(undefined, code) would send NO_ERROR.
    this.session.destroy(new FathomError('EH2LIMIT', reason), constants.NGHTTP2_ENHANCE_YOUR_CALM);
  }
}
