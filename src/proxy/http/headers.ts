// HTTP/1 header handling at the proxy boundary (RFC 9110 §7.6.1): hop-by-hop fields are removed in
// both directions, including every field the Connection header names; end-to-end fields pass in their
// original case and order. Also the request checks Node's parser leaves to us.

/** Fields that describe one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade']);

/**
 * Copies raw headers (name, value, name, value, ...) without hop-by-hop fields.
 * `keepUpgrade` keeps Connection: upgrade and Upgrade for protocol-switch requests.
 * `te: trailers` is end-to-end in meaning (gRPC relies on it) and is kept.
 */
export function forwardableHeaders(raw: readonly string[], keepUpgrade = false): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const token of raw[i + 1]!.split(',')) {
        const t = token.trim().toLowerCase();
        if (t !== '' && !(keepUpgrade && t === 'upgrade')) (named ??= new Set()).add(t);
      }
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'te' && raw[i + 1]!.trim().toLowerCase() === 'trailers') out.push(name, raw[i + 1]!);
      else if (keepUpgrade && lower === 'upgrade') out.push(name, raw[i + 1]!);
      continue;
    }
    if (named?.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  if (keepUpgrade) out.push('Connection', 'Upgrade');
  return out;
}

/** Counts occurrences of a field (lower-case name) in raw headers. */
export function countHeader(raw: readonly string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === lowerName.length && raw[i]!.toLowerCase() === lowerName) n++;
  }
  return n;
}

/** The first value of a field in raw headers. */
export function headerValue(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === lowerName.length && raw[i]!.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

/**
 * Request checks beyond Node's parser (which already rejects bad framing: CL+TE, duplicate or bad
 * Content-Length, bad chunk sizes, bare CR, space before colon). Returns a reason, or undefined when fine.
 */
export function requestProblem(raw: readonly string[]): string | undefined {
  if (countHeader(raw, 'host') > 1) return 'multiple Host headers';
  const cl = countHeader(raw, 'content-length');
  if (cl > 1) return 'multiple Content-Length headers';
  const te = headerValue(raw, 'transfer-encoding');
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') return `unsupported Transfer-Encoding "${te}"`;
  if (countHeader(raw, 'transfer-encoding') > 1) return 'multiple Transfer-Encoding headers';
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] === '') return 'empty header name';
  }
  return undefined;
}
