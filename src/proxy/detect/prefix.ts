// Classifies the first bytes a client sent: HTTP/2 prior knowledge, an HTTP/1.x request line, a TLS
// ClientHello, or none of these (opaque TCP). Pure, so it is tested and fuzzed without sockets.

export type Protocol = 'h2' | 'http1' | 'tls' | 'opaque';
/** 'more' means the bytes so far are a prefix of something we recognise: wait for more. */
export type Verdict = Protocol | 'more';

/** Linkerd reads at most this much before deciding (an HTTP/1 request line must fit). */
export const MAX_DETECT_BYTES = 1024;
/** A TLS ClientHello may span several reads; proxies' own hellos are ~300 bytes, browsers' up to a few KiB. */
export const MAX_TLS_HELLO_BYTES = 8192;

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
// RFC 9110 token characters, for the method.
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;

export function classifyPrefix(buf: Buffer): Verdict {
  if (buf.length === 0) return 'more';

  // HTTP/2: the client connection preface (RFC 9113 §3.4), compared on as many bytes as we have.
  const h2Len = Math.min(buf.length, H2_PREFACE.length);
  if (buf.compare(H2_PREFACE, 0, h2Len, 0, h2Len) === 0) {
    return h2Len === H2_PREFACE.length ? 'h2' : 'more';
  }

  // TLS: a handshake record (22) of TLS 1.0-1.3 (legacy versions 3.1-3.3 in the record header).
  if (buf[0] === 0x16) {
    if (buf.length < 3) return 'more';
    if (buf[1] === 0x03 && buf[2]! <= 0x04) return 'tls';
    return 'opaque';
  }

  return classifyHttp1(buf);
}

/** Methods that, starting a long request line, mark it as HTTP even before the line ends (see below). */
const COMMON_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT']);

/**
 * An HTTP/1 request line: METHOD SP request-target SP HTTP/1.x. Once a line looks like a request we
 * hand it to the HTTP parser even if a later part is malformed, so bad HTTP/1 gets a 400 instead of
 * being forwarded as opaque bytes. The verdict depends only on the bytes, never on how reads split them.
 */
function classifyHttp1(buf: Buffer): Verdict {
  const limit = Math.min(buf.length, MAX_DETECT_BYTES);
  let i = 0;
  // Method: 1..20 token characters.
  while (i < limit && i < 20 && TCHAR.test(String.fromCharCode(buf[i]!))) i++;
  if (i === limit) return limit < MAX_DETECT_BYTES && i < 20 ? 'more' : 'opaque';
  if (i === 0 || buf[i] !== 0x20) return 'opaque';
  // The request line must contain " HTTP/" before its end.
  const lineEnd = buf.indexOf(0x0a, i);
  if (lineEnd >= 0) return / HTTP\/\d/.test(buf.toString('latin1', 0, lineEnd)) ? 'http1' : 'opaque';
  // No newline yet: still plausible while no control characters or non-ASCII bytes appeared.
  const line = buf.toString('latin1', 0, limit);
  if (!/^[\x21-\x7e ]*$/.test(line)) return 'opaque';
  if (buf.length < MAX_DETECT_BYTES) return 'more';
  // A request line longer than the detect buffer (a long URI): a common method and 1 KiB of printable
  // request-target is HTTP. Calling it opaque would forward it unparsed, around every HTTP check.
  return COMMON_METHODS.has(line.slice(0, i)) ? 'http1' : 'opaque';
}
