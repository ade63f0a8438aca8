// HTTP/1 requests between meshed proxies ride HTTP/2 (model §1.5): the outbound proxy sends each HTTP/1
// request as a stream on the peer's pooled mTLS HTTP/2 session, marked `fathom-orig-proto: HTTP/1.1` (or
// HTTP/1.0, with `; absolute-form` when the request line named a full URI), hop-by-hop fields removed and
// Host moved to :authority; the peer's inbound proxy downgrades it for its app (http2/orig-proto.ts) and
// echoes the header; here the HTTP/2 response becomes an HTTP/1 response again (status, fields, body,
// trailers). Upgrade and CONNECT requests never come here: they stay HTTP/1.1 inside mTLS.
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { FathomError } from '../../lib/errors.js';
import type { Http2Pool, Lease } from '../http2/pool.js';
import type { EndpointTarget } from '../target/endpoint.js';
import type { Exchange } from './exchange.js';
import { grpcStatusOf } from '../http2/headers.js';
import { forwardableHeaders, headerValue, rawPairs, rawToObject } from './headers.js';

export const ORIG_PROTO_HEADER = 'fathom-orig-proto';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = constants;

/** request() errors that mean the session, not the request, is unusable. */
const SESSION_GONE: ReadonlySet<string> = new Set(['ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_OUT_OF_STREAMS']);

/** Sends `x`'s HTTP/1 request to `endpoint` as an HTTP/2 stream and relays the response back as HTTP/1. */
export function sendUpgraded(x: Exchange, endpoint: EndpointTarget, pool: Http2Pool, attempt = 0): void {
  const { req } = x;
  const hasBody = headerValue(req.rawHeaders, 'transfer-encoding') !== undefined || headerValue(req.rawHeaders, 'content-length') !== undefined;
  pool.acquire(endpoint, (err, lease) => {
    if (err || !lease) {
      if (!hasBody && x.retryElsewhere(err)) return;
      x.fail(err ?? new FathomError('ECONNREFUSED', `no session to ${endpoint.addrKey}`));
      return;
    }
    if (x.res.destroyed) {
      lease.release(); // the client left while we connected
      return;
    }
    let up: ClientHttp2Stream;
    try {
      up = lease.session.request(upgradedHeaders(x, endpoint), hasBody ? { endStream: false, waitForTrailers: true } : { endStream: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (SESSION_GONE.has(code)) {
        lease.retire();
        if (attempt === 0) sendUpgraded(x, endpoint, pool, 1);
        else x.fail(new FathomError('ECONNRESET', `upstream session unusable: ${(e as Error).message}`));
        return;
      }
      lease.release();
      x.fail(new FathomError('EBADREQUEST', (e as Error).message));
      return;
    }
    relay(x, up, lease, hasBody, () => sendUpgraded(x, endpoint, pool, attempt + 1), attempt);
  });
}

function relay(x: Exchange, up: ClientHttp2Stream, lease: Lease, hasBody: boolean, resend: () => void, attempt: number): void {
  const { req, res } = x;
  let upError: NodeJS.ErrnoException | undefined;
  let ended = false;
  let status = 0;
  let grpcStatus: number | undefined;
  x.onAbort(() => {
    if (!up.closed && !up.destroyed) up.close(NGHTTP2_CANCEL);
  });
  up.on('error', (e: NodeJS.ErrnoException) => (upError ??= e));
  up.on('headers', (headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    // 1xx informational responses: 100 Continue lets the client send its body; 103 Early Hints pass on.
    if (x.responded || res.headersSent) return;
    const informational = Number(headers[':status']);
    if (informational === 100) res.writeContinue();
    else if (informational === 103) res.writeEarlyHints(rawToObject(http1Fields(raw)));
  });
  up.on('response', (headers: IncomingHttpHeaders, flags: number, raw: string[]) => {
    status = Number(headers[':status'] ?? 0);
    grpcStatus = grpcStatusOf(headers);
    x.responseHead();
    let fields: string[];
    try {
      fields = http1Fields(raw);
      res.writeHead(status, fields);
    } catch (e) {
      up.close(NGHTTP2_CANCEL);
      x.responded = false;
      x.fail(new FathomError('EBADRESPONSE', `unforwardable response headers: ${(e as Error).message}`));
      return;
    }
    x.tapResponse(status, fields);
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) {
      ended = true;
      res.end();
      x.record({ statusCode: status, grpcStatus });
      return;
    }
    up.on('trailers', (trailers: IncomingHttpHeaders, _f: number, rawTrailers: string[]) => {
      grpcStatus = grpcStatusOf(trailers) ?? grpcStatus;
      // Sent only when the HTTP/1 response is chunked (no Content-Length), as HTTP/1 allows.
      const fields = http1Fields(rawTrailers);
      res.addTrailers(rawPairs(fields));
      x.tapResponseTrailers(fields);
    });
    up.once('end', () => {
      ended = true;
      x.record({ statusCode: status, grpcStatus });
    });
    x.tapBody(up);
    up.pipe(res);
  });
  up.on('wantTrailers', () => {
    const trailers: OutgoingHttpHeaders = {};
    for (let i = 0; i < req.rawTrailers.length; i += 2) trailers[req.rawTrailers[i]!.toLowerCase()] = req.rawTrailers[i + 1]!;
    up.sendTrailers(trailers);
  });
  up.once('close', () => {
    lease.release();
    if (ended || res.destroyed) return;
    if (!x.responded) {
      // The peer never processed it (GOAWAY race): a body-less request is safe to send again.
      if (up.rstCode === NGHTTP2_REFUSED_STREAM && !hasBody && attempt === 0) {
        resend();
        return;
      }
      x.fail(upError ?? new FathomError('ECONNRESET', 'the peer closed the stream without a response'));
      return;
    }
    // Broken mid-response: too late for a status, the client's connection is cut.
    x.record({ statusCode: status, error: upError?.code ?? 'ECONNRESET' });
    res.destroy();
  });
  if (hasBody) req.pipe(up);
  else req.resume();
}

/** The HTTP/2 request for an HTTP/1 request. */
function upgradedHeaders(x: Exchange, endpoint: EndpointTarget): OutgoingHttpHeaders {
  const { req } = x;
  let path = req.url ?? '/';
  let authority = headerValue(req.rawHeaders, 'host');
  let absolute = false;
  if (/^https?:\/\//i.test(path)) {
    // absolute-form (a request to a forward proxy): its authority wins, as RFC 9112 §3.2.2 says.
    try {
      const url = new URL(path);
      authority = url.host;
      path = `${url.pathname}${url.search}`;
      absolute = true;
    } catch {
      // Not a URL after all: sent as it came.
    }
  }
  const out: OutgoingHttpHeaders = {
    ':method': req.method ?? 'GET',
    ':scheme': 'http',
    ':authority': authority ?? endpoint.addrKey,
    ':path': path,
  };
  const fields = forwardableHeaders(req.rawHeaders);
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!.toLowerCase();
    if (name === 'host' || name === ORIG_PROTO_HEADER) continue;
    const prev = out[name];
    const value = fields[i + 1]!;
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  out[ORIG_PROTO_HEADER] = `HTTP/${req.httpVersion}${absolute ? '; absolute-form' : ''}`;
  return out;
}

/** An HTTP/2 header block as HTTP/1 fields: pseudo-headers and our marker left out. */
function http1Fields(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 0x3a || name === ORIG_PROTO_HEADER) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}
