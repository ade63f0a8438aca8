// The inbound half of HTTP/1-over-HTTP/2 between meshed proxies (model §1.5): a stream marked
// `fathom-orig-proto` carries an HTTP/1 request that the peer's outbound proxy upgraded, so it goes to the
// app as HTTP/1.1 over a pooled connection (Host from :authority, a body without Content-Length chunked),
// and the app's HTTP/1 response returns as HTTP/2 with the marker echoed, for the peer to restore HTTP/1.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../lib/log.js';
import { errorResponse } from '../http/errors.js';
import { forwardableHeaders, headerValue, rawPairs } from '../http/headers.js';
import { ORIG_PROTO_HEADER } from '../http/orig-proto.js';
import type { Http1Pool } from '../http/pool.js';
import { requestUpstream } from '../http/upstream.js';
import type { HttpSeries, ProxyMetrics } from '../metrics/registry.js';
import type { TapHub, TapId } from '../tap/hub.js';
import { h2TapRequest } from '../tap/peers.js';
import type { EndpointTarget } from '../target/endpoint.js';
import type { HttpTarget, Selected } from '../target/selector.js';
import { grpcStatusOf, isGrpc } from './headers.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = constants;

export interface DowngradeContext {
  readonly target: HttpTarget;
  readonly authority: string | undefined;
  readonly metrics: ProxyMetrics;
  readonly pool: Http1Pool;
  readonly maxHeaderBytes: number;
  readonly log: Logger;
  /** Where requests are reported while someone taps this proxy (read as `tap?.active`: idle, nothing more). */
  readonly tap?: TapHub;
}

export class DowngradeExchange {
  private readonly start = performance.now();
  private readonly endStream: boolean;
  private readonly origProto: string;
  private series: HttpSeries | undefined;
  private up: ClientRequest | undefined;
  private responseDone = false;
  private status = 0;
  private grpcStatus: number | undefined;
  private latencyMs = -1;
  private error: string | undefined;
  /** Set only when a tap watcher took this request. */
  private tapId: TapId | undefined;
  private tapBytes = 0;
  private tapTrailers: OutgoingHttpHeaders | undefined;

  constructor(
    private readonly down: ServerHttp2Stream,
    private readonly requestHeaders: IncomingHttpHeaders,
    /** The request's fields as forwarded (client id already set by the connection). */
    private readonly fields: OutgoingHttpHeaders,
    private readonly ctx: DowngradeContext,
  ) {
    this.endStream = down.endAfterHeaders;
    this.origProto = String(requestHeaders[ORIG_PROTO_HEADER]);
    down.once('close', () => this.onDownClose());
    ctx.target.selector.select(this.onSelected);
  }

  private readonly onSelected: Selected = (err, endpoint, claim) => {
    claim?.cancel(); // inbound endpoints are fixed: nothing to balance
    if (this.down.destroyed || this.down.closed) return;
    if (err || !endpoint) {
      this.fail(err ?? new Error('no endpoint'));
      return;
    }
    this.series = endpoint.seriesFor(this.ctx.metrics, this.ctx.authority ?? endpoint.addrKey);
    this.series.request();
    if (this.ctx.tap?.active) this.tapStart(endpoint);
    this.send(endpoint);
  };

  private tapStart(endpoint: EndpointTarget): void {
    this.tapId = this.ctx.tap!.requestInit(h2TapRequest(this.down.session?.socket, this.ctx.target, endpoint, this.ctx.authority, this.requestHeaders));
  }

  private tapResponse(status: number, headers: OutgoingHttpHeaders): void {
    if (this.tapId) this.ctx.tap!.responseInit(this.tapId, status, headers as Record<string, string>);
  }

  private send(endpoint: EndpointTarget): void {
    const { down, ctx } = this;
    const request = http1Request(this.fields, this.origProto, this.endStream);
    const up = requestUpstream(endpoint, { method: request.method, path: request.path, headers: request.headers, agent: ctx.pool.agent(endpoint), maxHeaderBytes: ctx.maxHeaderBytes });
    this.up = up;
    up.on('continue', () => {
      if (!down.headersSent && !down.destroyed) down.additionalHeaders({ ':status': 100 });
    });
    up.on('information', (info) => {
      if (info.statusCode === 103 && !down.headersSent && !down.destroyed) down.additionalHeaders({ ...h2Fields(info.rawHeaders), ':status': 103 });
    });
    up.on('response', (upRes) => this.onResponse(upRes, request.method));
    up.on('error', (err) => this.fail(err));
    if (this.endStream) {
      up.end();
      return;
    }
    down.on('trailers', (_headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      // Sent when the body is chunked (no Content-Length), as HTTP/1 allows.
      up.addTrailers(rawPairs(raw));
    });
    down.pipe(up);
  }

  private onResponse(upRes: IncomingMessage, method: string): void {
    const { down } = this;
    this.latencyMs = performance.now() - this.start;
    this.status = upRes.statusCode ?? 0;
    this.grpcStatus = grpcStatusOf(upRes.headers as IncomingHttpHeaders);
    if (down.destroyed || down.closed) {
      upRes.resume();
      return;
    }
    const noBody = method === 'HEAD' || this.status === 204 || this.status === 304;
    // Only a chunked HTTP/1 response can carry trailers. Otherwise END_STREAM rides the last DATA frame:
    // a separate trailers frame would arrive after the body, and a client that closes as soon as it has
    // the whole body would race it (the outbound side then sees its client leave "early").
    const mayHaveTrailers = upRes.headers['transfer-encoding'] !== undefined;
    const headers = { ...h2Fields(upRes.rawHeaders), ':status': this.status, [ORIG_PROTO_HEADER]: this.origProto };
    try {
      down.respond(headers, noBody ? { endStream: true } : mayHaveTrailers ? { waitForTrailers: true } : {});
    } catch (err) {
      upRes.destroy();
      this.fail(Object.assign(new Error(`unforwardable response headers: ${(err as Error).message}`), { code: 'EBADRESPONSE' }));
      return;
    }
    this.tapResponse(this.status, headers);
    if (noBody) {
      this.responseDone = true;
      upRes.resume();
      return;
    }
    let trailers: OutgoingHttpHeaders = {};
    upRes.once('end', () => {
      this.responseDone = true;
      trailers = h2Fields(upRes.rawTrailers);
      if (this.tapId) this.tapTrailers = trailers;
      this.grpcStatus = grpcStatusOf(upRes.trailers as IncomingHttpHeaders) ?? this.grpcStatus;
    });
    down.on('wantTrailers', () => down.sendTrailers(trailers));
    // The app's connection broke mid-body: reset the stream rather than end it as if complete.
    upRes.once('aborted', () => {
      this.error = 'ECONNRESET';
      if (!down.destroyed) down.close(NGHTTP2_INTERNAL_ERROR);
    });
    if (this.tapId) upRes.on('data', (chunk: Buffer) => (this.tapBytes += chunk.length));
    upRes.pipe(down);
  }

  /** The proxy failed the request: answer with a status when we still can, else reset the stream. */
  private fail(err: unknown): void {
    const { down } = this;
    this.latencyMs = performance.now() - this.start;
    this.error = (err as { code?: string }).code ?? 'EUNKNOWN';
    if (down.destroyed || down.closed) return;
    if (down.headersSent) {
      down.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const mapped = errorResponse(err);
    this.ctx.log.debug('request failed', { authority: this.ctx.authority, error: this.error });
    this.error = undefined; // answered with a status: counted by it
    this.responseDone = true;
    if (isGrpc(this.fields as IncomingHttpHeaders)) {
      this.status = 200;
      this.grpcStatus = mapped.grpcStatus;
      const headers = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(mapped.grpcStatus), 'grpc-message': mapped.reason, 'fathom-proxy-error': mapped.reason };
      down.respond(headers, { endStream: true });
      this.tapResponse(200, headers);
    } else {
      this.status = mapped.status;
      const body = `${mapped.reason}\n`;
      const headers = { ':status': this.status, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'fathom-proxy-error': mapped.reason, [ORIG_PROTO_HEADER]: this.origProto };
      down.respond(headers);
      this.tapResponse(this.status, headers);
      if (this.tapId) this.tapBytes += Buffer.byteLength(body);
      down.end(body);
    }
    if (!this.endStream && !down.readableEnded) down.close(NGHTTP2_NO_ERROR);
  }

  private onDownClose(): void {
    const { down } = this;
    const reset = (down.rstCode ?? NGHTTP2_NO_ERROR) !== NGHTTP2_NO_ERROR;
    if (!this.responseDone || reset) this.up?.destroy();
    if (this.error === undefined && reset) this.error = 'client reset';
    if (this.series === undefined) {
      this.series = this.ctx.target.selector.failureSeries(this.ctx.metrics, this.ctx.authority ?? '');
      this.series.request();
    }
    const latencyMs = this.latencyMs >= 0 ? this.latencyMs : performance.now() - this.start;
    this.series.response({ statusCode: this.status, grpcStatus: this.grpcStatus, latencyMs, error: this.error });
    if (this.tapId) {
      const code = down.rstCode ?? NGHTTP2_NO_ERROR;
      const resetCode = code !== NGHTTP2_NO_ERROR ? code : !this.responseDone ? NGHTTP2_CANCEL : undefined;
      this.ctx.tap!.responseEnd(this.tapId, this.tapBytes, this.grpcStatus, resetCode, this.tapTrailers as Record<string, string> | undefined);
    }
  }
}

/** The HTTP/1 request line and fields of a downgraded stream. */
function http1Request(fields: OutgoingHttpHeaders, origProto: string, endStream: boolean): { method: string; path: string; headers: string[] } {
  const authority = String(fields[':authority'] ?? '');
  let path = String(fields[':path'] ?? '/');
  // The client wrote a full URI in its request line (to a forward proxy): restore that form.
  if (origProto.endsWith('; absolute-form')) path = `http://${authority}${path}`;
  const headers: string[] = ['Host', authority];
  for (const name of Object.keys(fields)) {
    if (name.charCodeAt(0) === 0x3a || name === ORIG_PROTO_HEADER || name === 'host') continue;
    const value = fields[name];
    if (Array.isArray(value)) for (const v of value) headers.push(name, v);
    else if (value !== undefined) headers.push(name, String(value));
  }
  // HTTP/2 frames bodies itself; HTTP/1 needs a length or chunking (the app must not read it as a next request).
  if (!endStream && headerValue(headers, 'content-length') === undefined) headers.push('Transfer-Encoding', 'chunked');
  return { method: String(fields[':method'] ?? 'GET'), path, headers };
}

/** HTTP/1 fields as an HTTP/2 header block: hop-by-hop fields dropped, names in lower case, repeats kept apart. */
function h2Fields(raw: readonly string[]): OutgoingHttpHeaders {
  const fields = forwardableHeaders(raw);
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!.toLowerCase();
    if (name === 'te' || name === 'host' || name === ORIG_PROTO_HEADER) continue;
    const prev = out[name];
    const value = fields[i + 1]!;
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}
