// The opaque-transport header: the first bytes an outbound proxy sends, inside mTLS, to a peer's inbound
// port (4143) when the destination port is opaque, naming the port inside the peer's pod. Wire format
// (linkerd-model §1.3, with our own preamble): `transport.fathom.io/v1\r\n\r\n`, a u32 big-endian length,
// then a protobuf fathom.transport.Header.
import { Header } from '../../api/gen/fathom/transport.js';

export const TRANSPORT_PREAMBLE = Buffer.from('transport.fathom.io/v1\r\n\r\n', 'latin1');
/** A header is a port and maybe a name: anything longer is not one of ours. */
export const MAX_HEADER_BYTES = 1024;

export interface TransportHeader {
  readonly port: number;
  readonly name?: string;
  readonly sessionProtocol?: 'http1' | 'http2';
}

export function encodeTransportHeader(h: TransportHeader): Buffer {
  const body = Buffer.from(
    Header.encode({
      port: h.port,
      name: h.name ?? '',
      sessionProtocol: h.sessionProtocol === undefined ? undefined : { kind: h.sessionProtocol === 'http1' ? { $case: 'http1', value: {} } : { $case: 'http2', value: {} } },
    }).finish(),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([TRANSPORT_PREAMBLE, len, body]);
}

/**
 * Decodes a header at the start of `buf`. Returns 'more' when incomplete, an error string when the bytes
 * are not a valid header, or the header and how many bytes it used. Never throws.
 */
export function decodeTransportHeader(buf: Buffer): { header: TransportHeader; length: number } | 'more' | string {
  const n = Math.min(buf.length, TRANSPORT_PREAMBLE.length);
  if (buf.compare(TRANSPORT_PREAMBLE, 0, n, 0, n) !== 0) return 'not a transport header (bad preamble)';
  if (buf.length < TRANSPORT_PREAMBLE.length + 4) return 'more';
  const len = buf.readUInt32BE(TRANSPORT_PREAMBLE.length);
  if (len > MAX_HEADER_BYTES) return `transport header too long (${len} bytes)`;
  const start = TRANSPORT_PREAMBLE.length + 4;
  if (buf.length < start + len) return 'more';
  let decoded;
  try {
    decoded = Header.decode(buf.subarray(start, start + len));
  } catch (err) {
    return `transport header does not decode: ${(err as Error).message}`;
  }
  if (!Number.isInteger(decoded.port) || decoded.port <= 0 || decoded.port > 65535) return `transport header names an invalid port ${decoded.port}`;
  const kind = decoded.sessionProtocol?.kind?.$case;
  return {
    header: { port: decoded.port, ...(decoded.name ? { name: decoded.name } : {}), ...(kind ? { sessionProtocol: kind } : {}) },
    length: start + len,
  };
}
