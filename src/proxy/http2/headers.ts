// HTTP/2 header handling at the proxy boundary (RFC 9113 §8.2.2, §8.3): connection-specific fields never
// cross the proxy, pseudo-headers are rebuilt from the request's own, end-to-end fields pass in their
// order with repeated fields kept apart, and fields the sender marked never-indexed stay never-indexed.
// nghttp2 already refuses malformed input on the way in (bad pseudo-headers, upper-case names,
// connection-specific fields); these filters are the second line, for what we send.
import { sensitiveHeaders, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

/** Fields that describe one connection; forbidden in HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings',
]);

/** Request pseudo-headers we forward; `:protocol` (extended CONNECT) is not enabled on our servers. */
const REQUEST_PSEUDO: ReadonlySet<string> = new Set([':method', ':scheme', ':authority', ':path']);

/** A request's headers for the endpoint, or the reason it cannot be forwarded. */
export type UpstreamRequest = { headers: OutgoingHttpHeaders; authority: string | undefined } | { problem: string };

/**
 * Builds the endpoint's request headers from the client's raw headers (name, value, name, value...).
 * A request that names its authority only with `host` (allowed by RFC 9113 §8.3.1) gets it as `:authority`,
 * so the endpoint sees the same authority rather than our connection's address.
 */
export function upstreamRequestHeaders(raw: readonly string[], received: IncomingHttpHeaders): UpstreamRequest {
  const out: OutgoingHttpHeaders = {};
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 0x3a /* : */) {
      if (!REQUEST_PSEUDO.has(name)) return { problem: `pseudo-header ${name} is not allowed` };
      out[name] = value;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name)) return { problem: `connection-specific header ${name} is not allowed in HTTP/2` };
    if (name === 'te' && value.trim().toLowerCase() !== 'trailers') return { problem: 'te other than "trailers" is not allowed in HTTP/2' };
    if (name === 'host') {
      host ??= value;
      continue;
    }
    add(out, name, value);
  }
  if (host !== undefined) {
    // RFC 9113 §8.3.1: a Host naming another authority than :authority makes the request malformed.
    if (out[':authority'] === undefined) out[':authority'] = host;
    else if (host.toLowerCase() !== String(out[':authority']).toLowerCase()) return { problem: 'host header differs from :authority' };
  }
  copySensitive(received, out);
  const authority = out[':authority'] as string | undefined;
  return { headers: out, authority };
}

/**
 * Response headers, and trailers in either direction, from the sender's raw headers: connection-specific
 * fields and any pseudo-header other than `:status` are dropped (nghttp2 refuses them on receipt anyway).
 */
export function forwardedFields(raw: readonly string[], received: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':status') out[name] = raw[i + 1]!;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name) || name === 'te') continue;
    add(out, name, raw[i + 1]!);
  }
  copySensitive(received, out);
  return out;
}

function add(out: OutgoingHttpHeaders, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else out[name] = [String(prev), value];
}

/** Keeps HPACK's never-indexed marking (e.g. authorization, short cookies) end to end. */
function copySensitive(received: IncomingHttpHeaders, out: OutgoingHttpHeaders): void {
  const names = (received as Record<symbol, unknown>)[sensitiveHeaders];
  if (Array.isArray(names) && names.length > 0) (out as Record<symbol, unknown>)[sensitiveHeaders] = [...new Set(names)];
}

/** gRPC requests get gRPC statuses from the proxy, not bare HTTP errors. */
export function isGrpc(headers: IncomingHttpHeaders): boolean {
  const ct = headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

/** The numeric grpc-status of a header block, or undefined when absent or not a number. */
export function grpcStatusOf(headers: IncomingHttpHeaders | undefined): number | undefined {
  const v = headers?.['grpc-status'];
  if (typeof v !== 'string' || !/^\d{1,3}$/.test(v)) return undefined;
  return Number(v);
}
