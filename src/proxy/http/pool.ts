// Upstream HTTP/1 connection pools: the keep-alive connections to each endpoint, reused across requests
// and client connections; to a meshed endpoint (HTTP/1 that must stay HTTP/1: Upgrade and CONNECT) they
// are mTLS with ALPN http/1.1. Idle connections close after the pool idle timeout (Linkerd: 3 s), shorter
// than the usual server keep-alive (Node: 5 s) so we rarely reuse a connection the server is closing.
//
// node:http's ClientRequest takes any object with addRequest() as its agent. http.Agent, built for many
// origins, queues and socket limits, cost about a quarter of the proxy's CPU at 2000 requests/s (option
// spreads, pool keys built three times, async-context resets, listener churn, a socket timer refreshed on
// every read and write): see docs/performance.md, optimisation log. Here each endpoint has its own pool, so a request costs a pop
// from a LIFO list (which keeps the fewest connections warm under light load), and a connection's
// listeners are installed once, when it opens: new connections are counted in the transport metrics
// there and abandoned with ECONNECTTIMEOUT when they do not connect in time.
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import type { EndpointTarget } from '../target/endpoint.js';
import { ALPN_HTTP1, outboundClientOptions } from '../tls/context.js';
import type { IdentityStore } from '../tls/store.js';
import { afterPendingIo } from '../transport/connect.js';
import type { ConnectionTracker } from '../transport/connections.js';
import { equalsLower } from './headers.js';

export interface Http1PoolOptions {
  /** How long a connection may stay idle in the pool; 0: until the server closes it (as http.Agent). */
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Counts each new connection in the transport metrics. */
  readonly tracker: ConnectionTracker;
  /** Our identity, for connections to meshed endpoints (undefined in standalone mode and inbound). */
  readonly store?: IdentityStore;
}

/** As http.Agent: idle connections kept per endpoint at most, and how early a server's keep-alive hint is cut. */
const MAX_IDLE = 256;
const SERVER_HINT_MARGIN_MS = 1000;
/** TCP keep-alive probes on pooled connections start after this long, as http.Agent's keepAliveMsecs. */
const TCP_KEEPALIVE_DELAY_MS = 1000;

export class Http1Pool {
  private readonly endpoints = new Map<string, EndpointConnections>();

  constructor(private readonly opts: Http1PoolOptions) {}

  /** The connections to `endpoint`, passed to http.request() as its `agent`. */
  agent(endpoint: EndpointTarget): Agent {
    let pool = this.endpoints.get(endpoint.poolKey);
    if (!pool) {
      pool = new EndpointConnections(endpoint, this.opts);
      this.endpoints.set(endpoint.poolKey, pool);
    }
    return pool as unknown as Agent; // ClientRequest needs only what EndpointConnections has
  }

  /** Closes idle connections of every pool (on shutdown). */
  closeIdle(): void {
    for (const pool of this.endpoints.values()) pool.closeIdle();
  }

  destroy(): void {
    for (const pool of this.endpoints.values()) pool.destroy();
    this.endpoints.clear();
  }
}

/** One pooled connection and the request it serves (its response may carry a keep-alive hint). */
interface Connection {
  readonly socket: Socket;
  request: ClientRequest | undefined;
  /** While idle: when it may no longer be reused (performance.now() clock). */
  idleUntil: number;
  readonly listeners: {
    readonly free: () => void;
    readonly close: () => void;
    readonly error: () => void;
    readonly agentRemove: () => void;
  };
}

/**
 * The keep-alive connections to one endpoint, in the shape ClientRequest expects of an agent: it calls
 * addRequest(), which hands the request a socket with req.onSocket(); the socket emits 'free' when its
 * response completed and the connection may be reused, and 'agentRemove' when a protocol switch took it.
 * There is no `options.timeout`: ClientRequest then arms no per-request socket timer.
 */
export class EndpointConnections {
  readonly keepAlive = true;
  readonly maxSockets = Infinity;
  readonly protocol = 'http:';
  readonly defaultPort = 80;
  /** Most recently freed last (LIFO). */
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly endpoint: EndpointTarget,
    private readonly opts: Http1PoolOptions,
  ) {}

  /** Called by ClientRequest's constructor: gives `req` an idle connection, or a new one. */
  addRequest(req: ClientRequest): void {
    const now = performance.now();
    for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) {
      // The sweeper closes expired connections within a second; never reuse one in between.
      if (conn.idleUntil <= now || conn.socket.destroyed) {
        conn.socket.destroy();
        continue;
      }
      conn.request = req;
      conn.socket.ref();
      req.reusedSocket = true;
      req.onSocket(conn.socket);
      return;
    }
    const conn = this.connect();
    conn.request = req;
    req.onSocket(conn.socket);
  }

  closeIdle(): void {
    for (const conn of this.idle.splice(0)) conn.socket.destroy();
  }

  destroy(): void {
    this.idle.length = 0;
    for (const conn of this.open) conn.socket.destroy();
  }

  private connect(): Connection {
    const { endpoint, opts } = this;
    const { host, port } = endpoint.addr;
    const socket =
      endpoint.tls && opts.store
        ? // No TLS session is cached, so every connection checks the peer's identity again; the
          // certificate is the one the store holds now (renewals apply to new connections).
          tlsConnect({ ...outboundClientOptions(opts.store, endpoint.tls.identity, [ALPN_HTTP1]), host, port })
        : netConnect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: TCP_KEEPALIVE_DELAY_MS });
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    opts.tracker.track(socket, endpoint.connLabels);
    const timer = setTimeout(
      () =>
        afterPendingIo(() => {
          if (socket.connecting) socket.destroy(Object.assign(new Error(`connect timed out after ${opts.connectTimeoutMs}ms`), { code: 'ECONNECTTIMEOUT' }));
        }),
      opts.connectTimeoutMs,
    );
    socket.once('connect', () => clearTimeout(timer));
    const conn: Connection = {
      socket,
      request: undefined,
      idleUntil: 0,
      listeners: {
        free: () => this.release(conn),
        close: () => {
          clearTimeout(timer);
          this.forget(conn);
        },
        // A request in flight hears its socket's errors itself; an idle connection just closes.
        error: () => socket.destroy(),
        // Upgrade or CONNECT accepted: the connection now belongs to the tunnel.
        agentRemove: () => this.forget(conn),
      },
    };
    socket.on('free', conn.listeners.free);
    socket.on('close', conn.listeners.close);
    socket.on('error', conn.listeners.error);
    socket.on('agentRemove', conn.listeners.agentRemove);
    this.open.add(conn);
    if (opts.idleTimeoutMs > 0) this.sweeper ??= setInterval(() => this.sweep(), Math.max(100, Math.min(1000, opts.idleTimeoutMs))).unref();
    return conn;
  }

  /** The connection's response completed (or its request was dropped before using it): keep it for reuse. */
  private release(conn: Connection): void {
    const { socket } = conn;
    const ttl = this.idleTtl(conn.request);
    conn.request = undefined;
    if (!socket.writable || ttl <= 0 || this.idle.length >= MAX_IDLE) {
      socket.destroy();
      return;
    }
    conn.idleUntil = performance.now() + ttl;
    // node:http leaves the finished request on its socket; http.Agent clears it too. Otherwise an idle
    // connection keeps that request's whole exchange (both messages, listeners, buffers) alive.
    (socket as Socket & { _httpMessage: unknown })._httpMessage = null;
    socket.unref();
    this.idle.push(conn);
  }

  /**
   * How long the connection may idle: our timeout, or less when the server announced a shorter one. As
   * http.Agent: a hint under a second leaves no margin (not kept), and with no timeout of ours, a hint
   * does not set one.
   */
  private idleTtl(req: ClientRequest | undefined): number {
    const ours = this.opts.idleTimeoutMs > 0 ? this.opts.idleTimeoutMs : Infinity;
    // ClientRequest.res: the response node:http parsed on this connection (what http.Agent reads too).
    const raw = (req as { res?: IncomingMessage | null } | undefined)?.res?.rawHeaders;
    if (raw === undefined) return ours;
    for (let i = 0; i < raw.length; i += 2) {
      if (!equalsLower(raw[i]!, 'keep-alive')) continue;
      const hint = /^timeout=(\d+)/.exec(raw[i + 1]!)?.[1];
      if (hint === undefined) break;
      const hintMs = Number(hint) * 1000 - SERVER_HINT_MARGIN_MS;
      return hintMs <= 0 ? 0 : Math.min(ours, this.opts.idleTimeoutMs > 0 ? hintMs : Infinity);
    }
    return ours;
  }

  private forget(conn: Connection): void {
    if (!this.open.delete(conn)) return;
    const { socket, listeners } = conn;
    socket.removeListener('free', listeners.free);
    socket.removeListener('close', listeners.close);
    socket.removeListener('error', listeners.error);
    socket.removeListener('agentRemove', listeners.agentRemove);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.open.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Closes connections idle past their time (reuse already skips them; this frees their sockets). */
  private sweep(): void {
    const now = performance.now();
    for (const conn of this.idle) if (conn.idleUntil <= now) conn.socket.destroy();
  }
}
