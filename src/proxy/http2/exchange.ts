// One HTTP/2 stream's journey through the proxy: the connection's selector chooses the endpoint (a fixed one,
// or the balancer of a logical service), and the client's stream is forwarded as a stream on a pooled
// session to it (h2c, or HTTP/2 over mTLS to a meshed peer); bodies are relayed both ways with backpressure (so flow control holds end to end: a slow
// reader stops WINDOW_UPDATEs all the way back to the writer), 1xx and trailers are relayed, RST_STREAM
// crosses in both directions with its code, and the proxy's own failures become a response (a gRPC status
// for gRPC requests) through the one error mapping. Metrics are recorded when the client's stream closes.
import {
  constants,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { FathomError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { errorResponse, GRPC_INTERNAL } from '../http/errors.js';
import type { HttpSeries, ProxyMetrics } from '../metrics/registry.js';
import type { TapHub, TapId } from '../tap/hub.js';
import { h2TapRequest } from '../tap/peers.js';
import type { EndpointTarget } from '../target/endpoint.js';
import { NO_CLAIM, type Claim, type HttpTarget, type Selected } from '../target/selector.js';
import { forwardedFields, grpcStatusOf, isGrpc } from './headers.js';
import type { SessionGuard } from './limits.js';
import type { Http2Pool, Lease } from './pool.js';
import { relay } from './relay.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = constants;

/** request() errors that mean the session, not the request, is unusable. */
const SESSION_GONE: ReadonlySet<string> = new Set(['ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_OUT_OF_STREAMS']);

/** Failures that happen before the endpoint saw anything: another endpoint may take the request. */
const CONNECT_FAILURES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNECTTIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ETLSHANDSHAKE']);

export interface ExchangeContext {
  readonly pool: Http2Pool;
  readonly target: HttpTarget;
  /** The request's :authority, for metrics (the endpoint's address when it has none). */
  readonly authority: string | undefined;
  readonly metrics: ProxyMetrics;
  readonly guard: SessionGuard;
  readonly log: Logger;
  /** Where requests are reported while someone taps this proxy (read as `tap?.active`: idle, nothing more). */
  readonly tap?: TapHub;
}

export class Exchange {
  private readonly start = performance.now();
  private readonly grpc: boolean;
  private readonly endStream: boolean;
  private endpoint: EndpointTarget | undefined;
  private claim: Claim = NO_CLAIM;
  private series: HttpSeries | undefined;
  private retried = false;
  private up: ClientHttp2Stream | undefined;
  private upError: NodeJS.ErrnoException | undefined;
  /** Sends so far (a retry happens only when the endpoint cannot have seen the request). */
  private attempts = 0;
  private bodyRelayed = false;
  /** Response headers were sent to the client (by the endpoint's response or our own error response). */
  private responded = false;
  /** The endpoint's response reached END_STREAM. */
  private upEnded = false;
  /** We reset the client's stream (relaying the endpoint's reset, or a broken upstream). */
  private resetDownWith: string | undefined;
  /** We reset the endpoint's stream (relaying the client's reset). */
  private resetUp = false;
  private status = 0;
  private grpcStatus: number | undefined;
  private latencyMs = -1;
  private requestTrailers: OutgoingHttpHeaders | undefined;
  private responseTrailers: OutgoingHttpHeaders | undefined;
  /** Set only when a tap watcher took this request. */
  private tapId: TapId | undefined;
  private tapBytes = 0;

  constructor(
    private readonly down: ServerHttp2Stream,
    private readonly requestHeaders: IncomingHttpHeaders,
    private readonly upstreamHeaders: OutgoingHttpHeaders,
    private readonly ctx: ExchangeContext,
  ) {
    this.grpc = isGrpc(requestHeaders);
    this.endStream = down.endAfterHeaders;
    down.on('trailers', (headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      this.requestTrailers = forwardedFields(raw, headers);
    });
    // Trailers end the stream cleanly, so none are sent on a stream being reset: its RST_STREAM must win.
    down.on('wantTrailers', () => {
      if (this.resetDownWith === undefined) down.sendTrailers(this.responseTrailers ?? {});
    });
    down.once('close', () => this.onDownClose());
    ctx.target.selector.select(this.onSelected);
  }

  private readonly onSelected: Selected = (err, endpoint, claim) => {
    if (this.down.destroyed || this.down.closed) {
      claim?.cancel(); // the client left while we waited for an endpoint
      return;
    }
    if (err || !endpoint) {
      this.fail(err ?? new FathomError('ENOENDPOINTS', 'no endpoint'));
      return;
    }
    this.endpoint = endpoint;
    this.claim = claim ?? NO_CLAIM;
    if (this.series === undefined) {
      this.series = endpoint.seriesFor(this.ctx.metrics, this.ctx.authority ?? endpoint.addrKey);
      this.series.request();
      if (this.ctx.tap?.active) this.tapStart(endpoint);
    }
    this.send();
  };

  private tapStart(endpoint: EndpointTarget): void {
    this.tapId = this.ctx.tap!.requestInit(h2TapRequest(this.down.session?.socket, this.ctx.target, endpoint, this.ctx.authority, this.requestHeaders));
  }

  /** The series this request counts in; requests that never reached an endpoint count at the selector. */
  private seriesOrFailure(): HttpSeries {
    if (this.series === undefined) {
      this.series = this.ctx.target.selector.failureSeries(this.ctx.metrics, this.ctx.authority ?? '');
      this.series.request();
    }
    return this.series;
  }

  /**
   * After a connect failure on a balanced endpoint, a request without a body is sent once more, to another
   * endpoint when there is one (the failed one is skipped for a while). True when it was.
   */
  private retryElsewhere(err: unknown): boolean {
    const code = (err as { code?: string } | undefined)?.code;
    if (this.retried || !this.endStream || this.claim === NO_CLAIM || code === undefined || !CONNECT_FAILURES.has(code)) return false;
    this.retried = true;
    this.claim.markUnavailable();
    this.claim.cancel();
    this.claim = NO_CLAIM;
    this.ctx.target.selector.select(this.onSelected);
    return true;
  }

  private send(): void {
    this.ctx.pool.acquire(this.endpoint!, (err, lease) => {
      if (err || !lease) {
        if (this.retryElsewhere(err)) return;
        this.fail(err ?? new FathomError('ECONNREFUSED', 'no upstream session'));
        return;
      }
      if (this.down.destroyed) {
        lease.release(); // the client left while we connected
        return;
      }
      this.open(lease);
    });
  }

  private open(lease: Lease): void {
    const { down } = this;
    let up: ClientHttp2Stream;
    try {
      // request() may rewrite the object it is given (defaults for :scheme and :authority).
      up = lease.session.request({ ...this.upstreamHeaders }, this.endStream ? { endStream: true } : { endStream: false, waitForTrailers: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (SESSION_GONE.has(code)) {
        // Nothing was sent: the session closed under us, or ran out of stream ids. Try a fresh one.
        lease.retire();
        if (this.attempts++ === 0) this.send();
        else this.fail(new FathomError('ECONNRESET', `upstream session unusable: ${(err as Error).message}`));
        return;
      }
      lease.release();
      // Node refuses headers it cannot send (a repeated single-value field...): the request is malformed.
      this.fail(new FathomError('EBADREQUEST', (err as Error).message));
      return;
    }
    this.up = up;
    up.on('error', (e: NodeJS.ErrnoException) => (this.upError ??= e));
    up.on('response', (headers: IncomingHttpHeaders, flags: number, raw: string[]) => this.onResponse(up, headers, flags, raw));
    up.on('headers', (headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      // 1xx informational responses (100 Continue, 103 Early Hints) are relayed as they come.
      if (!this.responded && !down.destroyed) down.additionalHeaders(forwardedFields(raw, headers));
    });
    up.on('trailers', (headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      this.responseTrailers = forwardedFields(raw, headers);
      this.grpcStatus = grpcStatusOf(headers) ?? this.grpcStatus;
    });
    up.on('wantTrailers', () => {
      if (!this.resetUp) up.sendTrailers(this.requestTrailers ?? {});
    });
    up.once('end', () => (this.upEnded = true));
    up.once('close', () => {
      lease.release();
      this.onUpClose(up);
    });
    if (!this.endStream && !this.bodyRelayed) {
      this.bodyRelayed = true;
      relay(down, up);
    }
  }

  private onResponse(up: ClientHttp2Stream, headers: IncomingHttpHeaders, flags: number, raw: string[]): void {
    const { down } = this;
    this.latencyMs = performance.now() - this.start;
    this.claim.done();
    this.status = Number(headers[':status'] ?? 0);
    this.grpcStatus = grpcStatusOf(headers);
    const trailersOnly = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    if (down.destroyed || down.closed) return;
    try {
      down.respond(forwardedFields(raw, headers), trailersOnly ? { endStream: true } : { waitForTrailers: true });
    } catch (err) {
      this.resetUp = true;
      up.close(NGHTTP2_CANCEL);
      this.status = 0;
      this.fail(new FathomError('EBADRESPONSE', `unforwardable response headers: ${(err as Error).message}`));
      return;
    }
    this.responded = true;
    if (this.tapId) this.ctx.tap!.responseInit(this.tapId, this.status, headers);
    // HEAD, 204 and 304 end the client's stream at the headers: nothing more to relay.
    if (trailersOnly || down.writableEnded) up.resume();
    else {
      relay(up, down);
      if (this.tapId) up.on('data', (chunk: Buffer) => (this.tapBytes += chunk.length));
    }
  }

  private onUpClose(up: ClientHttp2Stream): void {
    const { down } = this;
    if (this.resetUp || down.destroyed) return;
    const rst = peerReset(up, this.upError);
    if (rst === undefined && this.upError === undefined && (this.upEnded || (this.responded && up.endAfterHeaders))) {
      // RST_STREAM(NO_ERROR) after a complete response (RFC 9113 §8.1): stop the client's body too.
      if (this.clientStillSending()) down.close(NGHTTP2_NO_ERROR);
      return;
    }
    if (!this.responded) {
      if (rst === NGHTTP2_REFUSED_STREAM && this.endStream && this.attempts++ === 0) {
        // The endpoint never processed it (GOAWAY race): a body-less request is safe to send again.
        this.upError = undefined;
        this.send();
        return;
      }
      if (rst === undefined) {
        this.fail(this.upError ?? new FathomError('EPIPE', 'upstream closed the stream without a response'));
        return;
      }
    }
    // The endpoint reset the stream (its code is relayed), or the connection broke mid-response.
    this.resetDown(rst ?? NGHTTP2_INTERNAL_ERROR, rst === undefined ? 'upstream connection lost' : 'upstream reset');
  }

  private onDownClose(): void {
    const { down, up } = this;
    const code = down.rstCode ?? NGHTTP2_NO_ERROR;
    // The client's reset budget counts its own resets and those its frames provoked (nghttp2's), not
    // the endpoint's that we relay: a struggling endpoint must not get its clients cut off.
    if (code !== NGHTTP2_NO_ERROR && this.resetDownWith === undefined) this.ctx.guard.streamReset();
    const clientReset = this.resetDownWith === undefined && (code !== NGHTTP2_NO_ERROR || !this.responded || !down.writableEnded);
    if (clientReset && up && !up.closed && !up.destroyed) {
      // The client cancelled (or its connection went): cancel the endpoint's work with the same code.
      this.resetUp = true;
      up.close(code === NGHTTP2_NO_ERROR ? NGHTTP2_CANCEL : code);
    }
    const latencyMs = this.latencyMs >= 0 ? this.latencyMs : performance.now() - this.start;
    const error = this.resetDownWith ?? (clientReset ? 'client reset' : undefined);
    this.claim.cancel(); // counted out already when the endpoint answered; here only if it never did
    this.seriesOrFailure().response({ statusCode: this.status, grpcStatus: this.grpcStatus, latencyMs, error });
    if (this.tapId) {
      const reset = code !== NGHTTP2_NO_ERROR ? code : clientReset ? NGHTTP2_CANCEL : undefined;
      this.ctx.tap!.responseEnd(this.tapId, this.tapBytes, this.grpcStatus, reset, this.responseTrailers as Record<string, string> | undefined);
    }
  }

  /** The request body is still coming (a body-less request's stream is never read, so check endStream). */
  private clientStillSending(): boolean {
    return !this.endStream && !this.down.readableEnded;
  }

  private resetDown(code: number, why: string): void {
    this.resetDownWith = why;
    if (!this.down.destroyed) this.down.close(code);
  }

  /** The proxy failed the request: answer with a status when we still can, else reset. */
  private fail(err: unknown): void {
    const { down } = this;
    this.latencyMs = performance.now() - this.start;
    if (down.destroyed || down.closed) return;
    if (down.headersSent) {
      this.resetDown(NGHTTP2_INTERNAL_ERROR, 'proxy error');
      return;
    }
    const mapped = errorResponse(err);
    this.ctx.log.debug('request failed', { target: this.endpoint?.addrKey ?? this.ctx.authority, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    const isBadRequest = (err as { code?: string }).code === 'EBADREQUEST';
    const reason = isBadRequest ? 'malformed request' : mapped.reason;
    this.responded = true;
    if (this.grpc) {
      this.status = 200;
      this.grpcStatus = isBadRequest ? GRPC_INTERNAL : mapped.grpcStatus;
      const headers = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(this.grpcStatus), 'grpc-message': reason, 'fathom-proxy-error': reason };
      down.respond(headers, { endStream: true });
      if (this.tapId) this.ctx.tap!.responseInit(this.tapId, 200, headers as unknown as Record<string, string>);
    } else {
      this.status = isBadRequest ? 400 : mapped.status;
      const body = `${reason}\n`;
      const headers = { ':status': this.status, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'fathom-proxy-error': reason };
      down.respond(headers);
      if (this.tapId) {
        this.ctx.tap!.responseInit(this.tapId, this.status, headers as unknown as Record<string, string>);
        this.tapBytes += Buffer.byteLength(body);
      }
      down.end(body);
    }
    // Stop a request body we will never forward (RST_STREAM(NO_ERROR) once the response is out).
    if (this.clientStillSending()) down.close(NGHTTP2_NO_ERROR);
  }
}

/**
 * The code of an RST_STREAM the endpoint sent, or undefined when the stream ended for another reason (its
 * session failed or closed). Node reports CANCEL resets without an error, other codes as ERR_HTTP2_STREAM_ERROR.
 */
function peerReset(up: ClientHttp2Stream, err: NodeJS.ErrnoException | undefined): number | undefined {
  if (err === undefined) return up.rstCode !== undefined && up.rstCode !== NGHTTP2_NO_ERROR ? up.rstCode : undefined;
  return err.code === 'ERR_HTTP2_STREAM_ERROR' ? up.rstCode : undefined;
}
