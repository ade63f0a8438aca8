// HTTP/1.1 proxying for one direction: connections whose protocol detection said HTTP/1 are handed
// to a (never listening) node:http server, which parses requests strictly; each request is forwarded
// to the connection's endpoint over a pooled keep-alive connection, bodies streamed both ways with
// backpressure, trailers and 1xx responses relayed, Upgrade (WebSocket) and CONNECT tunnelled.
import { createServer, request as httpRequest, STATUS_CODES, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../lib/log.js';
import type { HttpSeries, Labels, ProxyMetrics } from '../metrics/registry.js';
import { errorResponse, REFUSAL_TABLE } from './errors.js';
import { canonicalContentLength, forwardableHeaders, headerValue, MAX_HEADER_FIELDS, requestProblem } from './headers.js';
import { Http1Pool } from './pool.js';
import type { ConnectionTracker } from '../transport/connections.js';
import { openTunnel } from './tunnel.js';
import type { SocketAddr } from '../../lib/addr.js';

/** What the pipeline decided for a connection before handing it to HTTP/1. */
export interface Http1Target {
  readonly endpoint: SocketAddr;
  /** `host:port` of the endpoint, the pool key and the target_addr label. */
  readonly endpointKey: string;
  /** Labels common to every request on this connection (direction, target_addr, tls...). */
  readonly labels: Labels;
  /** Transport labels for connections the proxy opens to the endpoint (peer="dst"). */
  readonly connLabels: Labels;
}

export interface Http1Options {
  readonly metrics: ProxyMetrics;
  readonly log: Logger;
  readonly connectTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly poolIdleTimeoutMs: number;
  readonly tracker: ConnectionTracker;
}

const targets = new WeakMap<Socket, Http1Target>();

/** A complete error response written straight to a socket (no response object exists). */
function rawErrorResponse(status: number, reason: string): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nfathom-proxy-error: ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

export class Http1Proxy {
  readonly server: Server;
  private readonly pool: Http1Pool;
  /** Responses not yet finished on each client connection (pipelining may queue several); see onClientError. */
  private readonly responding = new WeakMap<Socket, Set<ServerResponse>>();
  /**
   * Connections on which a request was refused. The parser goes on reading requests pipelined behind
   * the refused one; none of them may reach the endpoint (the connection closes after the refusal).
   */
  private readonly refused = new WeakSet<Socket>();

  constructor(private readonly opts: Http1Options) {
    this.pool = new Http1Pool(opts.poolIdleTimeoutMs);
    this.server = createServer({
      maxHeaderSize: opts.maxHeaderBytes,
      // Checked in requestProblem() instead, so the 400 carries fathom-proxy-error like our other refusals.
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      keepAliveTimeout: opts.idleTimeoutMs,
      headersTimeout: opts.headersTimeoutMs,
      requestTimeout: 0, // a request may stream for as long as it likes; routes add timeouts later
      connectionsCheckingInterval: Math.min(1000, opts.headersTimeoutMs),
    });
    // Node tracks connections (for headersTimeout and closeIdleConnections) only once the server
    // emits 'listening'. This server never listens: connections arrive from detection.
    this.server.emit('listening');
    // One more than we accept, so requestProblem() sees that the limit was passed (Node drops the excess).
    this.server.maxHeadersCount = MAX_HEADER_FIELDS + 1;
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onTunnel(req, socket, head, true));
    this.server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onTunnel(req, socket, head, false));
    this.server.on('checkContinue', (req, res) => this.onRequest(req, res));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
  }

  /** Serves HTTP/1 on `socket`, replaying the detection prefix first. */
  serve(socket: Socket, prefix: Buffer, target: Http1Target): void {
    targets.set(socket, target);
    if (prefix.length > 0) socket.unshift(prefix);
    this.server.emit('connection', socket);
    // Detection paused the socket; the replayed prefix flows to the parser first, later bytes natively.
    socket.resume();
  }

  /** Stops keep-alive: idle connections close now, busy ones after their current response. */
  drain(): void {
    this.server.closeIdleConnections();
    this.pool.closeIdle();
  }

  destroy(): void {
    this.server.closeAllConnections();
    this.pool.destroy();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const target = targets.get(req.socket);
    if (!target) {
      res.destroy();
      return;
    }
    const socket = req.socket;
    if (this.refused.has(socket)) {
      req.resume();
      return;
    }
    res.sendDate = false; // the endpoint's Date header, if any, passes through
    let unfinished = this.responding.get(socket);
    if (!unfinished) this.responding.set(socket, (unfinished = new Set()));
    unfinished.add(res);
    res.once('close', () => unfinished.delete(res));
    const problem = requestProblem(req.rawHeaders, req.httpVersion);
    if (problem) {
      this.refused.add(socket);
      rejectRequest(res, problem.status, problem.reason);
      return;
    }
    const series = this.opts.metrics.http({ ...target.labels, authority: req.headers.host ?? target.endpointKey });
    series.request();
    const exchange = new Exchange(req, res, target, series, this.opts, this.pool);
    exchange.send(true);
  }

  private onTunnel(req: IncomingMessage, socket: Socket, head: Buffer, upgrade: boolean): void {
    const target = targets.get(socket);
    if (!target) {
      socket.destroy();
      return;
    }
    if (this.refused.has(socket)) {
      socket.end();
      return;
    }
    const problem = requestProblem(req.rawHeaders, req.httpVersion);
    if (problem) {
      socket.end(rawErrorResponse(problem.status, problem.reason));
      return;
    }
    const series = this.opts.metrics.http({ ...target.labels, authority: req.headers.host ?? target.endpointKey });
    openTunnel(req, socket, head, {
      target,
      series,
      upgrade,
      agent: this.pool.agent(target.endpointKey),
      connectTimeoutMs: this.opts.connectTimeoutMs,
      maxHeaderBytes: this.opts.maxHeaderBytes,
      tracker: this.opts.tracker,
      log: this.opts.log,
    });
  }

  /**
   * Bad input from the client: answer with a status and close; never forward it. Input after a request
   * head (a bad chunk, or a second request behind a refused one) can fail while a response is already
   * on the wire: then no status can be added, and the connection ends after what was written.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    this.opts.log.debug('rejected HTTP/1 input', { error: err.code ?? err.message });
    const unfinished = [...(this.responding.get(socket) ?? [])];
    if (err.code === 'HPE_CLOSED_CONNECTION') {
      // Bytes after a request that closes the connection (Connection: close, HTTP/1.0): RFC 9112 §9.6
      // lets us ignore them. The request before them still gets its response, then the connection ends.
      if (unfinished.length === 0) socket.destroySoon();
      return;
    }
    if (unfinished.length > 1 || unfinished[0]?.headersSent) {
      if (unfinished.every((r) => r.writableEnded)) socket.destroySoon();
      else socket.destroy();
      return;
    }
    if (!socket.writable || (err as { bytesParsed?: number }).bytesParsed === undefined && err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    // llhttp has no URI limit of its own: a long request line counts against maxHeaderSize (431).
    const refusal =
      err.code === 'HPE_HEADER_OVERFLOW' ? REFUSAL_TABLE.EHEADERSTOOLARGE
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? REFUSAL_TABLE.EHEADERSTIMEOUT
      : REFUSAL_TABLE.EMALFORMED;
    socket.end(rawErrorResponse(refusal.status, refusal.reason));
    socket.destroySoon();
  }
}

/** One request's journey to the endpoint and back. */
class Exchange {
  private readonly start = performance.now();
  private responded = false;
  private recorded = false;
  private upstream: ClientRequest | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly target: Http1Target,
    private readonly series: HttpSeries,
    private readonly opts: Http1Options,
    private readonly pool: Http1Pool,
  ) {
    // The client went away before the response completed: stop the upstream work too.
    res.once('close', () => {
      if (res.writableFinished) return;
      this.record({ statusCode: res.headersSent ? res.statusCode : 0, error: 'ECLIENTCLOSED' });
      this.upstream?.destroy();
    });
  }

  /** Counts the response once, whichever of completion, upstream failure or client close comes first. */
  private record(r: { statusCode: number; grpcStatus?: number; error?: string }): void {
    if (this.recorded) return;
    this.recorded = true;
    this.series.response({ ...r, latencyMs: performance.now() - this.start });
  }

  /** Sends the request; `mayRetry` allows one retry of a body-less request on a stale pooled connection. */
  send(mayRetry: boolean): void {
    const { req, target } = this;
    const chunked = headerValue(req.rawHeaders, 'transfer-encoding') !== undefined; // requestProblem: exactly "chunked"
    const hasBody = chunked || headerValue(req.rawHeaders, 'content-length') !== undefined;
    const headers = forwardableHeaders(req.rawHeaders);
    // Transfer-Encoding is hop-by-hop, so it is ours to set for the next hop. It must be explicit: Node
    // frames a body without Content-Length as chunked only for some methods, and would send the body of
    // a GET, HEAD, DELETE or OPTIONS unframed, for the endpoint to read as the next request.
    if (chunked) headers.push('Transfer-Encoding', 'chunked');
    const up = httpRequest({
      host: target.endpoint.host,
      port: target.endpoint.port,
      method: req.method,
      path: req.url,
      headers: headers as unknown as Record<string, string>,
      setHost: false,
      agent: this.pool.agent(target.endpointKey),
      maxHeaderSize: this.opts.maxHeaderBytes,
      joinDuplicateHeaders: false,
    });
    this.upstream = up;
    // Node would silently drop response fields past 2000; the head is bounded by maxHeaderSize anyway.
    up.maxHeadersCount = 0;
    up.once('socket', (socket: Socket) => {
      if (!socket.connecting) return;
      this.opts.tracker.track(socket, target.connLabels);
      const timer = setTimeout(() => up.destroy(Object.assign(new Error(`connect timed out after ${this.opts.connectTimeoutMs}ms`), { code: 'ECONNECTTIMEOUT' })), this.opts.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    up.on('continue', () => this.res.writeContinue());
    up.on('information', (info) => {
      if (info.statusCode === 103) this.res.writeEarlyHints(rawToObject(info.rawHeaders));
      else if (info.statusCode === 102) this.res.writeProcessing();
    });
    up.on('response', (upRes) => this.onResponse(upRes));
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (mayRetry && !hasBody && up.reusedSocket && err.code === 'ECONNRESET' && !this.responded) {
        this.send(false); // the pooled connection was closed by the server while idle
        return;
      }
      this.fail(err);
    });

    if (hasBody) {
      // Request trailers (chunked) are relayed once the body ends; this listener runs before pipe's end().
      req.once('end', () => {
        if (req.rawTrailers.length > 0) up.addTrailers(pairs(req.rawTrailers));
      });
      req.pipe(up);
    } else {
      up.end();
      req.resume();
    }
  }

  private onResponse(upRes: IncomingMessage): void {
    const { res } = this;
    this.responded = true;
    const status = upRes.statusCode ?? 502;
    try {
      res.writeHead(status, upRes.statusMessage, canonicalContentLength(forwardableHeaders(upRes.rawHeaders)));
    } catch (err) {
      upRes.destroy();
      this.responded = false;
      this.fail(Object.assign(new Error(`unforwardable response headers: ${(err as Error).message}`), { code: 'EBADRESPONSE' }));
      return;
    }
    upRes.once('end', () => {
      if (upRes.rawTrailers.length > 0) res.addTrailers(pairs(upRes.rawTrailers));
      const grpc = upRes.trailers['grpc-status'] ?? upRes.headers['grpc-status'];
      this.record({ statusCode: status, grpcStatus: grpc === undefined ? undefined : Number(grpc) });
    });
    // The endpoint's connection broke mid-body: too late for a status, so the client's connection is
    // cut too (a clean end would pass a truncated body off as complete).
    upRes.once('aborted', () => {
      this.record({ statusCode: status, error: 'ECONNRESET' });
      res.destroy();
    });
    upRes.once('error', () => res.destroy());
    upRes.pipe(res);
  }

  private fail(err: NodeJS.ErrnoException): void {
    const { req, res } = this;
    if (res.headersSent || res.destroyed) {
      // Too late for a status: the only honest signal left is to cut the connection.
      this.record({ statusCode: res.headersSent ? res.statusCode : 0, error: err.code ?? 'EUNKNOWN' });
      res.destroy();
      return;
    }
    const mapped = errorResponse(err);
    this.opts.log.debug('request failed', { target: this.target.endpointKey, error: err.code ?? err.message });
    // A request body the endpoint never took: the connection cannot be reused for another request.
    if (!req.complete) res.shouldKeepAlive = false;
    const isGrpc = (req.headers['content-type'] ?? '').startsWith('application/grpc');
    // Counted as the client sees it: a gRPC client gets HTTP 200 carrying the gRPC status.
    this.record(isGrpc ? { statusCode: 200, grpcStatus: mapped.grpcStatus } : { statusCode: mapped.status });
    if (isGrpc) {
      res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': String(mapped.grpcStatus), 'grpc-message': mapped.reason, 'fathom-proxy-error': mapped.reason, 'content-length': '0' });
      res.end();
      return;
    }
    const body = `${mapped.reason}\n`;
    res.writeHead(mapped.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'fathom-proxy-error': mapped.reason });
    res.end(body);
  }
}

function rejectRequest(res: ServerResponse, status: number, reason: string): void {
  const body = `${reason}\n`;
  res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'fathom-proxy-error': reason, connection: 'close' });
  res.end(body);
  res.req.resume();
}

function pairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function rawToObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    const prev = out[k];
    out[k] = prev === undefined ? raw[i + 1]! : Array.isArray(prev) ? [...prev, raw[i + 1]!] : [prev, raw[i + 1]!];
  }
  return out;
}
