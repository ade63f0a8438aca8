// HTTP/1 header handling at the proxy boundary (RFC 9110 §7.6.1): hop-by-hop fields are removed in
// both directions, including every field the Connection header names; end-to-end fields pass in their
// original case and order. Also the request checks Node's parser leaves to us, and the Content-Length
// clean-up of responses.
import { REFUSAL_TABLE, type Refusal } from './errors.js';

/** Fields that describe one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade']);

/** HOP_BY_HOP by name length, so that most names are ruled out by their length alone. */
const HOP_BY_HOP_BY_LENGTH: Array<string[] | undefined> = [];
for (const name of HOP_BY_HOP) (HOP_BY_HOP_BY_LENGTH[name.length] ??= []).push(name);

/** Set by the inbound proxy on requests to the app: the client's verified identity. Never taken from a client. */
export const CLIENT_ID_HEADER = 'fathom-client-id';

/**
 * Whether `name` equals `lower` (a lower-case name) ignoring ASCII case, without allocating: the per-request
 * header scans ran toLowerCase() on every field name (docs/performance.md, optimisation log).
 */
export function equalsLower(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const l = lower.charCodeAt(i);
    if (c !== l && !(l >= 0x61 && l <= 0x7a && c === l - 0x20)) return false;
  }
  return true;
}

/** The hop-by-hop field `name` is, in lower case, or undefined. */
function hopByHop(name: string): string | undefined {
  const candidates = HOP_BY_HOP_BY_LENGTH[name.length];
  if (candidates !== undefined) for (const c of candidates) if (equalsLower(name, c)) return c;
  return undefined;
}

/**
 * Copies raw headers (name, value, name, value, ...) without hop-by-hop fields.
 * `keepUpgrade` keeps Connection: upgrade and Upgrade for protocol-switch requests.
 * `drop` (a lower-case name) is left out too: the inbound side drops any `fathom-client-id` it receives.
 * `te: trailers` is end-to-end in meaning (gRPC relies on it) and is kept.
 * `Connection: host` is ignored: naming Host would make the proxy send a request without its authority.
 */
export function forwardableHeaders(raw: readonly string[], keepUpgrade = false, drop?: string): string[] {
  // Names the Connection header lists; hop-by-hop ones are dropped below anyway.
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (equalsLower(raw[i]!, 'connection')) {
      for (const token of raw[i + 1]!.split(',')) {
        const t = token.trim().toLowerCase();
        if (t !== '' && t !== 'host' && !HOP_BY_HOP.has(t)) (named ??= new Set()).add(t);
      }
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const hop = hopByHop(name);
    if (hop !== undefined) {
      if (hop === 'te' && raw[i + 1]!.trim().toLowerCase() === 'trailers') out.push(name, raw[i + 1]!);
      else if (keepUpgrade && hop === 'upgrade') out.push(name, raw[i + 1]!);
      continue;
    }
    if (named?.has(name.toLowerCase()) || (drop !== undefined && equalsLower(name, drop))) continue;
    out.push(name, raw[i + 1]!);
  }
  if (keepUpgrade) out.push('Connection', 'Upgrade');
  return out;
}

/**
 * Rewrites Content-Length values with leading zeros (which llhttp reads as decimal) in plain decimal,
 * in place, so that the next parser cannot read them as octal. Returns `raw`.
 */
export function canonicalContentLength(raw: string[]): string[] {
  for (let i = 0; i < raw.length; i += 2) {
    const v = raw[i + 1]!;
    if (v.length > 1 && v.charCodeAt(0) === 0x30 && equalsLower(raw[i]!, 'content-length')) {
      raw[i + 1] = v.replace(/^0+(?=\d)/, '');
    }
  }
  return raw;
}

/** Counts occurrences of a field (lower-case name) in raw headers. */
export function countHeader(raw: readonly string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (equalsLower(raw[i]!, lowerName)) n++;
  }
  return n;
}

/** The first value of a field in raw headers. */
export function headerValue(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (equalsLower(raw[i]!, lowerName)) return raw[i + 1];
  }
  return undefined;
}

/** Most header fields a request may carry. Node's parser silently drops fields past its own limit
 * (2000), which would forward a different request than the one sent; hyper (Linkerd) and Envoy stop at
 * 100. We refuse with 431 instead, at a limit no real client reaches. */
export const MAX_HEADER_FIELDS = 1000;

// Content-Length is 1*DIGIT (RFC 9110 §8.6); leading zeros are valid there but some parsers read them as
// octal, so a value that two parsers could read differently is refused rather than forwarded.
const CANONICAL_LENGTH = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * Request checks beyond Node's parser (llhttp in strict mode), which already rejects, before any
 * request event: Content-Length together with Transfer-Encoding, duplicate or non-numeric
 * Content-Length, a Transfer-Encoding whose last coding is not chunked, space before a colon,
 * whitespace before the first field, obs-fold, bare CR and bare LF, NUL and other controls, an empty
 * field name, bad chunk sizes, chunk extensions over 16 KiB and heads over maxHeaderSize.
 * What it lets through and we refuse is below. Returns undefined when the request may be forwarded.
 */
export function requestProblem(raw: readonly string[], httpVersion = '1.1'): Refusal | undefined {
  if (raw.length / 2 > MAX_HEADER_FIELDS) return REFUSAL_TABLE.ETOOMANYHEADERS;
  if (httpVersion !== '1.1' && httpVersion !== '1.0') return REFUSAL_TABLE.EHTTPVERSION;
  const hosts = countHeader(raw, 'host');
  if (hosts > 1) return REFUSAL_TABLE.EMULTIPLEHOST;
  if (hosts === 0 && httpVersion === '1.1') return REFUSAL_TABLE.ENOHOST;
  const cl = headerValue(raw, 'content-length');
  if (cl !== undefined && (!CANONICAL_LENGTH.test(cl) || countHeader(raw, 'content-length') > 1)) return REFUSAL_TABLE.EBADLENGTH;
  const tes = countHeader(raw, 'transfer-encoding');
  if (tes > 0) {
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (httpVersion === '1.0') return REFUSAL_TABLE.ETEHTTP10;
    // Only plain "chunked" is forwarded: ",chunked", "gzip, chunked" or a split header are read
    // differently by different parsers (the TE.TE desync), so none reaches the endpoint.
    if (tes > 1) return REFUSAL_TABLE.EMULTIPLETE;
    if (headerValue(raw, 'transfer-encoding')!.trim().toLowerCase() !== 'chunked') return REFUSAL_TABLE.EBADTE;
  }
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] === '') return REFUSAL_TABLE.EEMPTYNAME;
  }
  return undefined;
}

/** Raw headers (name, value, name, value...) as [name, value] pairs. */
export function rawPairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** Raw headers as an object of lower-case names, repeated fields as arrays. */
export function rawToObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    const prev = out[k];
    out[k] = prev === undefined ? raw[i + 1]! : Array.isArray(prev) ? [...prev, raw[i + 1]!] : [prev, raw[i + 1]!];
  }
  return out;
}
