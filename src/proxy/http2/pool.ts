// Upstream HTTP/2 sessions, pooled per endpoint: h2c to plain endpoints, HTTP/2 over mTLS (ALPN h2) to
// meshed peers, keyed by address and identity. The streams of every client connection to an endpoint
// (HTTP/2 streams, and HTTP/1 requests riding HTTP/2 to a peer proxy) are multiplexed over as few
// connections as its SETTINGS_MAX_CONCURRENT_STREAMS allows. A session that received GOAWAY or closed
// takes no new streams (the next request opens a fresh one); one without streams for the idle timeout is
// closed.
import { connect as h2connect, type ClientHttp2Session, type ClientSessionOptions } from 'node:http2';
import type { Socket } from 'node:net';
import { formatSocketAddr } from '../../lib/addr.js';
import { FathomError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { EndpointTarget } from '../target/endpoint.js';
import { ALPN_H2, ALPN_TRANSPORT } from '../tls/context.js';
import type { IdentityStore } from '../tls/store.js';
import { connectEndpoint } from '../transport/connect-endpoint.js';
import type { ConnectionTracker } from '../transport/connections.js';
import { encodeTransportHeader } from '../transport/transport-header.js';
import { closeAfterFin, CONNECTION_WINDOW } from './limits.js';

export interface Http2PoolOptions {
  readonly connectTimeoutMs: number;
  /** Our identity, for sessions to meshed endpoints (undefined in standalone mode). */
  readonly store: IdentityStore | undefined;
  readonly idleTimeoutMs: number;
  readonly sessionOptions: ClientSessionOptions;
  readonly tracker: ConnectionTracker;
  readonly log: Logger;
}

/** A reserved stream slot on a session. `release()` exactly once, when the stream has closed. */
export interface Lease {
  readonly session: ClientHttp2Session;
  release(): void;
  /** Releases the slot and takes the session out of the pool (it could not open a stream). */
  retire(): void;
}

type Waiter = (err: FathomError | undefined, lease?: Lease) => void;

/**
 * Streams that may wait on a connecting session before another connection is opened (Node's
 * peerMaxConcurrentStreams); the endpoint's SETTINGS then give the real capacity.
 */
const ASSUMED_MAX_STREAMS = 100;

class PooledSession {
  session: ClientHttp2Session | undefined;
  active = 0;
  capacity = ASSUMED_MAX_STREAMS;
  /** False once the session received GOAWAY, failed or closed: no new streams. */
  usable = true;
  idleSince = 0;
  waiters: Waiter[] = [];
}

export class Http2Pool {
  private readonly endpoints = new Map<string, PooledSession[]>();
  private draining = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly opts: Http2PoolOptions) {
    this.sweeper = setInterval(() => this.closeIdle(opts.idleTimeoutMs), Math.max(100, Math.min(opts.idleTimeoutMs / 2, 5000)));
    this.sweeper.unref();
  }

  /** Reserves a stream on a session to `target`, connecting when none has room. `done` may run synchronously. */
  acquire(target: EndpointTarget, done: Waiter): void {
    let list = this.endpoints.get(target.poolKey);
    if (!list) {
      list = [];
      this.endpoints.set(target.poolKey, list);
    }
    for (const p of list) {
      if (p.usable && p.active < p.capacity && !p.session?.closed && !p.session?.destroyed) {
        p.active++;
        if (p.session) done(undefined, this.lease(p));
        else p.waiters.push(done);
        return;
      }
    }
    const p = new PooledSession();
    p.active = 1;
    p.waiters.push(done);
    list.push(p);
    this.connect(target, p, list);
  }

  /** Shutdown: sessions close as soon as their last stream ends. */
  drain(): void {
    this.draining = true;
    this.closeIdle(0);
  }

  destroy(): void {
    clearInterval(this.sweeper);
    for (const list of this.endpoints.values()) for (const p of list) p.session?.destroy();
    this.endpoints.clear();
  }

  private connect(target: EndpointTarget, p: PooledSession, list: PooledSession[]): void {
    const connectOptions = { timeoutMs: this.opts.connectTimeoutMs, store: this.opts.store };
    // A peer whose port is opaque is reached through its proxy's inbound port: the transport header names
    // the port and says the session is HTTP/2.
    const transport = target.transport;
    const alpn = target.tls ? (transport ? ALPN_TRANSPORT : ALPN_H2) : undefined;
    connectEndpoint(transport?.addr ?? target.addr, target.tls, alpn, connectOptions, (err, socket) => {
      if (err || !socket) {
        this.remove(list, p);
        p.usable = false;
        this.failWaiters(p, err ?? new FathomError('ECONNREFUSED', `cannot connect to ${target.addrKey}`));
        return;
      }
      this.opts.tracker.track(socket, target.connLabels);
      socket.allowHalfOpen = false; // HTTP/2 has no half-close: the endpoint's FIN ends the session
      closeAfterFin(socket);
      if (!transport) {
        this.startSession(target, p, list, socket);
        return;
      }
      // The session takes the socket's native handle over: a write still pending from JS at that moment
      // aborts the process (Node's is_write_in_progress check), so the header must be flushed first.
      socket.write(encodeTransportHeader({ port: transport.port, sessionProtocol: 'http2' }), (writeErr) => {
        if (!writeErr && !socket.destroyed) {
          this.startSession(target, p, list, socket);
          return;
        }
        socket.destroy();
        this.remove(list, p);
        p.usable = false;
        this.failWaiters(p, new FathomError('ECONNRESET', `connection to ${target.addrKey} lost before its transport header was sent`));
      });
    });
  }

  /**
   * Streams wait for the endpoint's SETTINGS (sent at once with its preface), so that its concurrency
   * limit is known before we open more streams than it accepts; an endpoint that does not speak HTTP/2
   * fails them with ECONNECTTIMEOUT after the connect timeout.
   */
  private startSession(target: EndpointTarget, p: PooledSession, list: PooledSession[], socket: Socket): void {
    const scheme = target.tls ? 'https' : 'http';
    const session = h2connect(`${scheme}://${formatSocketAddr(target.addr.host, target.addr.port)}`, {
      ...this.opts.sessionOptions,
      createConnection: () => socket,
    });
    session.setLocalWindowSize(CONNECTION_WINDOW);
    const retire = () => {
      p.usable = false;
      this.remove(list, p);
    };
    const timer = setTimeout(() => {
      retire();
      this.failWaiters(p, new FathomError('ECONNECTTIMEOUT', `no HTTP/2 SETTINGS from ${target.addrKey} within ${this.opts.connectTimeoutMs}ms`));
      session.destroy();
    }, this.opts.connectTimeoutMs);
    session.on('remoteSettings', (settings) => {
      p.capacity = Math.max(1, settings.maxConcurrentStreams ?? ASSUMED_MAX_STREAMS);
      if (p.session) return;
      clearTimeout(timer);
      p.session = session;
      const waiters = p.waiters;
      p.waiters = [];
      // Waiters beyond the endpoint's limit look for room elsewhere (another connection if need be).
      const overflow = waiters.splice(p.capacity);
      p.active -= overflow.length;
      for (const w of waiters) w(undefined, this.lease(p));
      for (const w of overflow) this.acquire(target, w);
    });
    session.on('goaway', retire);
    session.on('close', () => {
      clearTimeout(timer);
      retire();
      this.failWaiters(p, new FathomError('ECONNRESET', `connection to ${target.addrKey} closed before its SETTINGS`));
    });
    session.on('error', (e: NodeJS.ErrnoException) => this.opts.log.debug('upstream HTTP/2 session failed', { target: target.addrKey, error: e.code ?? e.message }));
  }

  private failWaiters(p: PooledSession, err: FathomError): void {
    const waiters = p.waiters;
    p.waiters = [];
    p.active -= waiters.length;
    for (const w of waiters) w(err);
  }

  private lease(p: PooledSession): Lease {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--p.active === 0) {
        p.idleSince = performance.now();
        if (this.draining || !p.usable) closeQuietly(p.session);
      }
    };
    return {
      session: p.session!,
      release,
      retire: () => {
        p.usable = false;
        release();
        closeQuietly(p.session);
      },
    };
  }

  private closeIdle(idleMs: number): void {
    const now = performance.now();
    for (const [key, list] of this.endpoints) {
      for (const p of [...list]) {
        if (p.session && p.active === 0 && now - p.idleSince >= idleMs) {
          p.usable = false;
          this.remove(list, p);
          closeQuietly(p.session);
        }
      }
      if (list.length === 0) this.endpoints.delete(key); // endpoints come and go (outbound to many destinations)
    }
  }

  private remove(list: PooledSession[], p: PooledSession): void {
    const i = list.indexOf(p);
    if (i >= 0) list.splice(i, 1);
  }
}

/** Graceful close: GOAWAY to the endpoint, the socket ends once open streams finish. */
function closeQuietly(session: ClientHttp2Session | undefined): void {
  if (session && !session.closed && !session.destroyed) session.close();
}
