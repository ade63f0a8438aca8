// One HTTP/1 request's journey through the proxy: the connection's selector chooses its endpoint (a fixed
// one, or the balancer of a logical service); the request then goes over a pooled HTTP/1 connection, or
// rides HTTP/2 to a meshed peer proxy (orig-proto.ts). Bodies stream both ways with backpressure, trailers
// and 1xx responses are relayed, and any failure becomes one response through the error mapping.
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { constants as h2 } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { FathomError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Http2Pool } from '../http2/pool.js';
import { relay } from '../http2/relay.js';
import type { HttpResponse, HttpSeries, ProxyMetrics } from '../metrics/registry.js';
import type { TapHub, TapId } from '../tap/hub.js';
import { tapPeers } from '../tap/peers.js';
import type { TapHeaders } from '../tap/request.js';
import type { EndpointTarget } from '../target/endpoint.js';
import { NO_CLAIM, type Claim, type HttpTarget, type Selected } from '../target/selector.js';
import { errorResponse, REFUSAL_TABLE } from './errors.js';
import { canonicalContentLength, CLIENT_ID_HEADER, forwardableHeaders, headerValue, rawPairs, rawToObject } from './headers.js';
import { sendUpgraded } from './orig-proto.js';
import { requestUpstream } from './upstream.js';
import type { Http1Pool } from './pool.js';

export interface ExchangeOptions {
  readonly metrics: ProxyMetrics;
  readonly log: Logger;
  readonly maxHeaderBytes: number;
  readonly pool: Http1Pool;
  /** Sessions to meshed peers, over which HTTP/1 requests ride HTTP/2 (outbound with a control plane). */
  readonly h2Pool: Http2Pool | undefined;
  /** Inbound: a `fathom-client-id` from the client is dropped (only the proxy may set it). */
  readonly stripClientId: boolean;
  /** Where requests are reported while someone taps this proxy (read as `tap?.active`: idle, nothing more). */
  readonly tap?: TapHub;
}

/** Failures that happen before the endpoint saw anything: another endpoint may take the request. */
const CONNECT_FAILURES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNECTTIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ETLSHANDSHAKE']);

export class Exchange {
  private readonly start = performance.now();
  private series: HttpSeries | undefined;
  private claim: Claim = NO_CLAIM;
  /** A response head from the endpoint was written to the client. */
  responded = false;
  private recorded = false;
  private retried = false;
  /** Stops the upstream side when the client goes away. */
  private abort: (() => void) | undefined;
  /** Set only when a tap watcher took this request. */
  private tapId: TapId | undefined;
  private tapBytes = 0;
  private tapTrailers: TapHeaders | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly target: HttpTarget,
    /** The request's authority (Host), for metrics; without one, the endpoint's address is used. */
    private readonly authority: string | undefined,
    readonly opts: ExchangeOptions,
  ) {
    // The client went away before the response completed: stop the upstream work too.
    res.once('close', () => {
      // writableEnded, not writableFinished: a client that reads the whole response and closes at once
      // (Connection: close) can close the socket before our last write's callback, and that is a
      // complete response, not a client that went away.
      if (res.writableEnded) return;
      this.record({ statusCode: res.headersSent ? res.statusCode : 0, error: 'ECLIENTCLOSED' });
      this.claim.cancel();
      this.abort?.();
    });
  }

  /** Chooses the endpoint and sends the request. */
  begin(): void {
    this.target.selector.select(this.onSelected);
  }

  private readonly onSelected: Selected = (err, endpoint, claim) => {
    if (this.res.destroyed) {
      claim?.cancel(); // the client left while we waited for an endpoint
      return;
    }
    if (err || !endpoint) {
      this.fail(err ?? new Error('no endpoint'));
      return;
    }
    this.claim = claim ?? NO_CLAIM;
    if (this.series === undefined) {
      this.series = endpoint.seriesFor(this.opts.metrics, this.authority ?? endpoint.addrKey);
      this.series.request();
      if (this.opts.tap?.active) this.tapStart(endpoint);
    }
    if (endpoint.h2 && this.opts.h2Pool) sendUpgraded(this, endpoint, this.opts.h2Pool);
    else this.sendHttp1(endpoint, true);
  };

  private tapStart(endpoint: EndpointTarget): void {
    const { req } = this;
    this.tapId = this.opts.tap!.requestInit({
      ...tapPeers(req.socket, this.target, endpoint),
      method: req.method ?? 'GET',
      scheme: 'http',
      authority: this.authority ?? '',
      path: req.url ?? '/',
      headers: req.rawHeaders,
    });
  }

  /** The response head was written to the client (tapped requests only report it). */
  tapResponse(status: number, headers: TapHeaders): void {
    if (this.tapId) this.opts.tap!.responseInit(this.tapId, status, headers);
  }

  /** Counts the response body relayed from `body`, when tapped. */
  tapBody(body: NodeJS.ReadableStream): void {
    if (this.tapId) body.on('data', (chunk: Buffer) => (this.tapBytes += chunk.length));
  }

  /** The response trailers, for a tapped request's end. */
  tapResponseTrailers(trailers: TapHeaders): void {
    if (this.tapId) this.tapTrailers = trailers;
  }

  /** What stops the upstream request when the client goes away. */
  onAbort(abort: () => void): void {
    this.abort = abort;
  }

  /** The endpoint's response head arrived: the balancer learns the endpoint's latency. */
  responseHead(): void {
    this.responded = true;
    this.claim.done();
  }

  /** Counts the response once, whichever of completion, upstream failure or client close comes first. */
  record(r: Omit<HttpResponse, 'latencyMs'>): void {
    if (this.recorded) return;
    this.recorded = true;
    if (this.series === undefined) {
      // Failed before an endpoint was chosen (no answer from discovery, no endpoints...).
      this.series = this.target.selector.failureSeries(this.opts.metrics, this.authority ?? '');
      this.series.request();
    }
    // One object shape for every call: a spread of the callers' differently shaped objects made V8 clone
    // through its slow path, which left garbage in the old generation (docs/performance.md, optimisation log).
    this.series.response({ statusCode: r.statusCode, grpcStatus: r.grpcStatus, error: r.error, classification: r.classification, latencyMs: performance.now() - this.start });
    if (this.tapId) {
      // HTTP/1 has no resets: a client that left is CANCEL, a response cut short INTERNAL_ERROR.
      const reset = r.error === undefined ? undefined : r.error === 'ECLIENTCLOSED' ? h2.NGHTTP2_CANCEL : h2.NGHTTP2_INTERNAL_ERROR;
      this.opts.tap!.responseEnd(this.tapId, this.tapBytes, r.grpcStatus, reset, this.tapTrailers);
    }
  }

  /**
   * After a connect failure on a balanced endpoint, sends a request without a body once more, to another
   * endpoint when there is one (the failed one is skipped for a while). True when it did.
   */
  retryElsewhere(err: unknown): boolean {
    const code = (err as { code?: string } | undefined)?.code;
    if (this.retried || this.responded || this.claim === NO_CLAIM || code === undefined || !CONNECT_FAILURES.has(code)) return false;
    this.retried = true;
    this.claim.markUnavailable();
    this.claim.cancel();
    this.claim = NO_CLAIM;
    this.opts.log.debug('retrying on another endpoint', { error: code });
    this.target.selector.select(this.onSelected);
    return true;
  }

  /** Sends the request over HTTP/1; `mayRetry` allows one retry of a body-less request on a stale pooled connection. */
  private sendHttp1(endpoint: EndpointTarget, mayRetry: boolean): void {
    const { req, opts } = this;
    const chunked = headerValue(req.rawHeaders, 'transfer-encoding') !== undefined; // requestProblem: exactly "chunked"
    const hasBody = chunked || headerValue(req.rawHeaders, 'content-length') !== undefined;
    const headers = forwardableHeaders(req.rawHeaders, false, opts.stripClientId ? CLIENT_ID_HEADER : undefined);
    if (this.target.clientId !== undefined) headers.push(CLIENT_ID_HEADER, this.target.clientId);
    // Transfer-Encoding is hop-by-hop, so it is ours to set for the next hop. It must be explicit: Node
    // frames a body without Content-Length as chunked only for some methods, and would send the body of
    // a GET, HEAD, DELETE or OPTIONS unframed, for the endpoint to read as the next request.
    if (chunked) headers.push('Transfer-Encoding', 'chunked');
    const up = requestUpstream(endpoint, { method: req.method, path: req.url, headers, agent: opts.pool.agent(endpoint), maxHeaderBytes: opts.maxHeaderBytes });
    this.abort = () => up.destroy();
    up.on('continue', () => this.res.writeContinue());
    up.on('information', (info) => {
      if (info.statusCode === 103) this.res.writeEarlyHints(rawToObject(info.rawHeaders));
      else if (info.statusCode === 102) this.res.writeProcessing();
    });
    up.on('response', (upRes) => this.onResponse(upRes, up));
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (mayRetry && !hasBody && up.reusedSocket && err.code === 'ECONNRESET' && !this.responded) {
        this.sendHttp1(endpoint, false); // the pooled connection was closed by the server while idle
        return;
      }
      if (!hasBody && this.retryElsewhere(err)) return;
      this.fail(err);
    });

    if (hasBody) {
      // Request trailers (chunked) are relayed once the body ends.
      relay(req, up, () => {
        if (req.rawTrailers.length > 0) up.addTrailers(rawPairs(req.rawTrailers));
        up.end();
      });
    } else {
      up.end();
      req.resume();
    }
  }

  private onResponse(upRes: IncomingMessage, up: ClientRequest): void {
    const { res } = this;
    this.responseHead();
    const status = upRes.statusCode ?? 502;
    try {
      res.writeHead(status, upRes.statusMessage, canonicalContentLength(forwardableHeaders(upRes.rawHeaders)));
    } catch (err) {
      upRes.destroy();
      up.destroy();
      this.responded = false;
      this.fail(Object.assign(new Error(`unforwardable response headers: ${(err as Error).message}`), { code: 'EBADRESPONSE' }));
      return;
    }
    this.tapResponse(status, upRes.rawHeaders);
    // The endpoint's connection broke mid-body: too late for a status, so the client's connection is
    // cut too (a clean end would pass a truncated body off as complete).
    upRes.once('aborted', () => {
      this.record({ statusCode: status, error: 'ECONNRESET' });
      res.destroy();
    });
    upRes.once('error', () => res.destroy());
    this.tapBody(upRes);
    relay(upRes, res, () => {
      if (upRes.rawTrailers.length > 0) res.addTrailers(rawPairs(upRes.rawTrailers));
      this.tapResponseTrailers(upRes.rawTrailers);
      this.record({ statusCode: status, grpcStatus: responseGrpcStatus(upRes) });
      res.end();
    });
  }

  /** The proxy failed the request: answer with a status when we still can, else cut the connection. */
  fail(err: Error | FathomError): void {
    const { req, res } = this;
    const code = (err as NodeJS.ErrnoException).code;
    this.claim.cancel();
    if (res.headersSent || res.destroyed) {
      // Too late for a status: the only honest signal left is to cut the connection.
      this.record({ statusCode: res.headersSent ? res.statusCode : 0, error: code ?? 'EUNKNOWN' });
      res.destroy();
      return;
    }
    // Node refuses to send some requests (a repeated single-value field over HTTP/2): the request is malformed.
    const mapped = code === 'EBADREQUEST' ? { status: REFUSAL_TABLE.EMALFORMED.status, grpcStatus: 13, reason: REFUSAL_TABLE.EMALFORMED.reason } : errorResponse(err);
    this.opts.log.debug('request failed', { authority: this.authority, error: code ?? err.message });
    // A request body the endpoint never took: the connection cannot be reused for another request.
    if (!req.complete) res.shouldKeepAlive = false;
    const isGrpc = (req.headers['content-type'] ?? '').startsWith('application/grpc');
    if (isGrpc) {
      const headers = { 'content-type': 'application/grpc', 'grpc-status': String(mapped.grpcStatus), 'grpc-message': mapped.reason, 'fathom-proxy-error': mapped.reason, 'content-length': '0' };
      this.tapResponse(200, headers);
      // Counted as the client sees it: a gRPC client gets HTTP 200 carrying the gRPC status.
      this.record({ statusCode: 200, grpcStatus: mapped.grpcStatus });
      res.writeHead(200, headers);
      res.end();
      return;
    }
    const body = `${mapped.reason}\n`;
    const headers = { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'fathom-proxy-error': mapped.reason };
    this.tapResponse(mapped.status, headers);
    this.tapBytes += Buffer.byteLength(body);
    this.record({ statusCode: mapped.status });
    res.writeHead(mapped.status, headers);
    res.end(body);
  }
}

/**
 * The grpc-status of a gRPC response over HTTP/1 (trailers first), as node:http reads it. Only looked up
 * when the field is there: upRes.headers and .trailers build an object of every field on first use.
 */
function responseGrpcStatus(upRes: IncomingMessage): number | undefined {
  let value: string | string[] | undefined;
  if (headerValue(upRes.rawTrailers, 'grpc-status') !== undefined) value = upRes.trailers['grpc-status'];
  else if (headerValue(upRes.rawHeaders, 'grpc-status') !== undefined) value = upRes.headers['grpc-status'];
  return value === undefined ? undefined : Number(value);
}
