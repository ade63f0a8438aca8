// HTTP/2 (prior knowledge, in clear or inside mTLS) proxying for one direction: a connection whose protocol
// detection saw the HTTP/2 preface becomes a server session (never a listening server, as for HTTP/1), each
// of its streams is forwarded as an Exchange over pooled sessions to the endpoint its selector chooses (or,
// inbound, downgraded to HTTP/1 when a peer proxy carried an HTTP/1 request: orig-proto.ts), and the
// connection lives under the limits of limits.ts. Shutdown sends a two-step GOAWAY so no stream in flight
// is lost.
//
// Replaying the detection prefix: Node's HTTP/2 session reads the socket's native handle directly, not
// through the JS stream, so bytes pushed back with unshift() are invisible to it *unless* they are still
// in the socket's readable buffer when the session starts: Node then feeds them to nghttp2 first
// (nodejs/node#35475). So the socket must stay paused (never resumed) between unshift() and the handshake.
// This costs nothing. The other way, wrapping the socket in a JS Duplex that replays the prefix, makes
// Node drive the session through a JS stream: a session answering directly served 25k instead of 80k
// requests/s (h2load -c 4 -m 20, 2 cores). http2.test.ts guards the behaviour across Node upgrades.
import {
  constants,
  performServerHandshake,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type ServerOptions,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/log.js';
import { CLIENT_ID_HEADER } from '../http/headers.js';
import { ORIG_PROTO_HEADER } from '../http/orig-proto.js';
import type { Http1Pool } from '../http/pool.js';
import type { ProxyMetrics } from '../metrics/registry.js';
import type { TapHub } from '../tap/hub.js';
import type { HttpTarget } from '../target/selector.js';
import { Exchange } from './exchange.js';
import { upstreamRequestHeaders } from './headers.js';
import { closeAfterFin, CONNECTION_WINDOW, serverSessionOptions, SessionGuard, type Http2Limits } from './limits.js';
import { DowngradeExchange } from './orig-proto.js';
import type { Http2Pool } from './pool.js';

export interface Http2Options {
  readonly metrics: ProxyMetrics;
  readonly log: Logger;
  readonly maxHeaderBytes: number;
  /** A client connection without streams for this long gets GOAWAY. */
  readonly idleTimeoutMs: number;
  readonly limits: Http2Limits;
  /** Upstream sessions (shared with HTTP/1 requests that ride HTTP/2 to peers). */
  readonly pool: Http2Pool;
  /** Upstream HTTP/1 connections, for requests a peer proxy upgraded (inbound downgrades them). */
  readonly h1Pool: Http1Pool;
  /** Inbound: requests marked `fathom-orig-proto` go to the app as HTTP/1; `fathom-client-id` is ours to set. */
  readonly inbound: boolean;
  /** Where requests are reported while someone taps this proxy. */
  readonly tap?: TapHub;
}

/** After the first GOAWAY of a graceful close, how long to wait for the PING ack before the final one. */
const GOAWAY_NOTICE_MS = 1000;
const MAX_STREAM_ID = 2 ** 31 - 1;

export class Http2Proxy {
  private readonly pool: Http2Pool;
  private readonly serverOptions: ServerOptions;
  private readonly connections = new Set<Connection>();
  private readonly sweeper: NodeJS.Timeout;
  private draining = false;

  constructor(private readonly opts: Http2Options) {
    this.serverOptions = serverSessionOptions(opts.limits);
    this.pool = opts.pool;
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(100, Math.min(opts.idleTimeoutMs / 2, 5000)));
    this.sweeper.unref();
  }

  /** Serves HTTP/2 on `socket` (paused by detection), replaying the detection prefix first. */
  serve(socket: Socket, prefix: Buffer, target: HttpTarget): void {
    // HTTP/2 has no half-close: a client's FIN ends the connection (the listener keeps half-open
    // sockets for TCP forwarding; left so, the session would outlive its client).
    socket.allowHalfOpen = false;
    closeAfterFin(socket);
    if (prefix.length > 0) socket.unshift(prefix);
    const session = performServerHandshake(socket, this.serverOptions);
    const conn = new Connection(session, target, this.opts, this.pool);
    this.connections.add(conn);
    session.once('close', () => this.connections.delete(conn));
    if (this.draining) conn.goAway();
  }

  /** Shutdown: every client connection gets GOAWAY; streams in flight finish; upstream sessions close when idle. */
  drain(): void {
    this.draining = true;
    for (const c of this.connections) c.goAway();
    this.pool.drain();
  }

  destroy(): void {
    clearInterval(this.sweeper);
    for (const c of this.connections) c.session.destroy();
    this.pool.destroy();
  }

  private closeIdle(): void {
    const now = performance.now();
    for (const c of this.connections) if (c.active === 0 && now - c.idleSince >= this.opts.idleTimeoutMs) c.goAway();
  }
}

/** One client connection: its session, guard and stream count. */
class Connection {
  active = 0;
  idleSince = performance.now();
  private readonly guard: SessionGuard;
  private closing = false;

  constructor(
    readonly session: ServerHttp2Session,
    private readonly target: HttpTarget,
    private readonly opts: Http2Options,
    private readonly pool: Http2Pool,
  ) {
    this.guard = new SessionGuard(session, opts.log);
    session.setLocalWindowSize(CONNECTION_WINDOW);
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => this.onStream(stream, headers, raw));
    session.on('error', (err: NodeJS.ErrnoException) => opts.log.debug('HTTP/2 connection failed', { error: err.code ?? err.message }));
    session.on('frameError', (type: number, code: number, id: number) => opts.log.debug('HTTP/2 frame not sent', { type, code, stream: id }));
  }

  /**
   * Graceful close in two steps (RFC 9113 §6.8): a GOAWAY that names the highest stream id tells the client
   * to stop opening streams; after a PING round trip, streams it sent meanwhile have arrived, and the
   * final GOAWAY names the last one we accept. The session ends when its last stream does.
   */
  goAway(): void {
    const { session } = this;
    if (this.closing || session.closed || session.destroyed) return;
    this.closing = true;
    session.goaway(constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
    const finish = () => {
      clearTimeout(timer);
      if (!session.closed && !session.destroyed) session.close();
    };
    const timer = setTimeout(finish, GOAWAY_NOTICE_MS);
    if (!session.ping(finish)) finish();
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, raw: string[]): void {
    // Errors are read from rstCode on close. Attached first: a stream reset in the same read as its
    // HEADERS is destroyed before this event, and its 'error' is still to come.
    stream.on('error', noop);
    if (stream.destroyed || stream.closed) {
      if ((stream.rstCode ?? 0) !== constants.NGHTTP2_NO_ERROR) this.guard.streamReset();
      return;
    }
    this.active++;
    stream.once('close', () => {
      if (--this.active === 0) this.idleSince = performance.now();
    });
    const request = upstreamRequestHeaders(raw, headers);
    if ('problem' in request) {
      // Well-formed HTTP/2 that still cannot be forwarded: a stream error, never sent on (RFC 9113 §8.1.1).
      this.opts.log.debug('refused HTTP/2 request', { problem: request.problem });
      stream.close(constants.NGHTTP2_PROTOCOL_ERROR);
      this.guard.streamReset();
      return;
    }
    const { target, opts } = this;
    if (opts.inbound) {
      // Only this proxy vouches for a client's identity: whatever a client sent is dropped.
      delete request.headers[CLIENT_ID_HEADER];
      if (target.clientId !== undefined) request.headers[CLIENT_ID_HEADER] = target.clientId;
      if (headers[ORIG_PROTO_HEADER] !== undefined) {
        new DowngradeExchange(stream, headers, request.headers, {
          target,
          authority: request.authority,
          metrics: opts.metrics,
          pool: opts.h1Pool,
          maxHeaderBytes: opts.maxHeaderBytes,
          log: opts.log,
          tap: opts.tap,
        });
        return;
      }
    }
    new Exchange(stream, headers, request.headers, {
      pool: this.pool,
      target,
      authority: request.authority,
      metrics: opts.metrics,
      guard: this.guard,
      log: opts.log,
      tap: opts.tap,
    });
  }
}

function noop(): void {}
