// HTTP/1.1 proxying for one direction: connections whose protocol detection said HTTP/1 are handed
// to a (never listening) node:http server, which parses requests strictly; each request becomes an
// Exchange (exchange.ts) that takes its endpoint from the connection's selector; Upgrade (WebSocket) and
// CONNECT are tunnelled (tunnel.ts).
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpTarget } from '../target/selector.js';
import { errorResponse, REFUSAL_TABLE } from './errors.js';
import { Exchange, type ExchangeOptions } from './exchange.js';
import { MAX_HEADER_FIELDS, requestProblem } from './headers.js';
import { openTunnel } from './tunnel.js';

export interface Http1Options extends ExchangeOptions {
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

const targets = new WeakMap<Socket, HttpTarget>();

/**
 * Responses not yet finished on each client connection (pipelining may queue several); see onClientError.
 * A plain array, not a Set: a Set shrinks its table when emptied, a new allocation per request that the
 * long-lived Set keeps past a scavenge (docs/performance.md, optimisation log).
 */
const responding = new WeakMap<Socket, ServerResponse[]>();

/** A response closed: it no longer counts on its connection. One function for all (no closure per request). */
function forgetResponse(this: ServerResponse): void {
  const unfinished = responding.get(this.req.socket) ?? [];
  const i = unfinished.indexOf(this);
  if (i < 0) return;
  // Order does not matter (see onClientError): the last one fills the gap, then pop (no allocation).
  unfinished[i] = unfinished[unfinished.length - 1]!;
  unfinished.pop();
}

/** A complete error response written straight to a socket (no response object exists). */
function rawErrorResponse(status: number, reason: string): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nfathom-proxy-error: ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

export class Http1Proxy {
  readonly server: Server;
  /**
   * Connections on which a request was refused. The parser goes on reading requests pipelined behind
   * the refused one; none of them may reach the endpoint (the connection closes after the refusal).
   */
  private readonly refused = new WeakSet<Socket>();

  constructor(private readonly opts: Http1Options) {
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
  serve(socket: Socket, prefix: Buffer, target: HttpTarget): void {
    targets.set(socket, target);
    if (prefix.length > 0) socket.unshift(prefix);
    this.server.emit('connection', socket);
    // Detection paused the socket; the replayed prefix flows to the parser first, later bytes natively.
    socket.resume();
  }

  /** Stops keep-alive: idle connections close now, busy ones after their current response. */
  drain(): void {
    this.server.closeIdleConnections();
    this.opts.pool.closeIdle();
  }

  destroy(): void {
    this.server.closeAllConnections();
    this.opts.pool.destroy();
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
    let unfinished = responding.get(socket);
    if (!unfinished) responding.set(socket, (unfinished = []));
    unfinished.push(res);
    res.on('close', forgetResponse);
    const problem = requestProblem(req.rawHeaders, req.httpVersion);
    if (problem) {
      this.refused.add(socket);
      rejectRequest(res, problem.status, problem.reason);
      return;
    }
    new Exchange(req, res, target, req.headers.host, this.opts).begin();
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
    // Tunnels are not balanced by load: the endpoint is chosen, then its claim released at once.
    socket.pause();
    target.selector.select((err, endpoint, claim) => {
      claim?.cancel();
      if (err || !endpoint) {
        const series = target.selector.failureSeries(this.opts.metrics, req.headers.host ?? '');
        series.request();
        const mapped = errorResponse(err);
        series.response({ statusCode: mapped.status, latencyMs: 0 });
        socket.end(rawErrorResponse(mapped.status, mapped.reason));
        return;
      }
      openTunnel(req, socket, head, {
        endpoint,
        clientId: target.clientId,
        stripClientId: this.opts.stripClientId,
        series: endpoint.seriesFor(this.opts.metrics, req.headers.host ?? endpoint.addrKey),
        upgrade,
        agent: this.opts.pool.agent(endpoint),
        maxHeaderBytes: this.opts.maxHeaderBytes,
        log: this.opts.log,
      });
    });
  }

  /**
   * Bad input from the client: answer with a status and close; never forward it. Input after a request
   * head (a bad chunk, or a second request behind a refused one) can fail while a response is already
   * on the wire: then no status can be added, and the connection ends after what was written.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    this.opts.log.debug('rejected HTTP/1 input', { error: err.code ?? err.message });
    const unfinished = [...(responding.get(socket) ?? [])];
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

function rejectRequest(res: ServerResponse, status: number, reason: string): void {
  const body = `${reason}\n`;
  res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'fathom-proxy-error': reason, connection: 'close' });
  res.end(body);
  res.req.resume();
}
