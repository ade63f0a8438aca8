// The one place where a failure inside the proxy becomes a response: an HTTP status, a gRPC status
// (for gRPC requests), and the `fathom-proxy-error` header naming the cause; and the requests the
// proxy refuses itself. docs/errors.md lists both tables and a test keeps them in agreement.
import { errorCode } from '../../lib/errors.js';

export interface ProxyErrorResponse {
  readonly status: number;
  /** gRPC status code used when the request was gRPC (the HTTP status is then 200). */
  readonly grpcStatus: number;
  /** A short, stable, header-safe description of the cause. */
  readonly reason: string;
}

export const GRPC_UNAVAILABLE = 14;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_INTERNAL = 13;

/** Error code → response. Codes are Node's errno codes, llhttp's HPE_* codes, or our own E* codes. */
export const ERROR_TABLE: Readonly<Record<string, ProxyErrorResponse>> = {
  ECONNREFUSED: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'connection refused' },
  ECONNRESET: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'connection reset by upstream' },
  EPIPE: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'connection closed by upstream' },
  EHOSTUNREACH: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'host unreachable' },
  ENETUNREACH: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'network unreachable' },
  EADDRNOTAVAIL: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'address not available' },
  ECONNECTTIMEOUT: { status: 504, grpcStatus: GRPC_DEADLINE_EXCEEDED, reason: 'connect timed out' },
  ETIMEDOUT: { status: 504, grpcStatus: GRPC_DEADLINE_EXCEEDED, reason: 'upstream timed out' },
  ERESPONSETIMEOUT: { status: 504, grpcStatus: GRPC_DEADLINE_EXCEEDED, reason: 'response timed out' },
  EBADRESPONSE: { status: 502, grpcStatus: GRPC_INTERNAL, reason: 'malformed response from upstream' },
  ELOOP: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'destination is the proxy itself' },
  ENODESTINATION: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'no original destination' },
  // With a control plane (model §1.4, §5): Linkerd answers these 503 after its failfast timeout.
  EDISCOVERYTIMEOUT: { status: 503, grpcStatus: GRPC_UNAVAILABLE, reason: 'no response from the control plane' },
  ENOENDPOINTS: { status: 503, grpcStatus: GRPC_UNAVAILABLE, reason: 'service has no endpoints' },
  EIDENTITYNOTREADY: { status: 503, grpcStatus: GRPC_UNAVAILABLE, reason: 'proxy identity not yet certified' },
  ETLSHANDSHAKE: { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'mTLS handshake with the endpoint failed' },
};

/** A request the proxy refuses itself, before anything is forwarded: a plain HTTP status and reason. */
export interface Refusal {
  readonly status: 400 | 408 | 431 | 505;
  /** Fixed text, never request input: it is written into the fathom-proxy-error header. */
  readonly reason: string;
}

/** Refusal code → response. The client's connection is closed after each of these. */
export const REFUSAL_TABLE = {
  EMALFORMED: { status: 400, reason: 'malformed request' },
  EINCOMPLETE: { status: 400, reason: 'incomplete request' },
  EMULTIPLEHOST: { status: 400, reason: 'multiple Host headers' },
  ENOHOST: { status: 400, reason: 'missing Host header' },
  EBADLENGTH: { status: 400, reason: 'invalid Content-Length' },
  ETEHTTP10: { status: 400, reason: 'Transfer-Encoding in an HTTP/1.0 request' },
  EMULTIPLETE: { status: 400, reason: 'multiple Transfer-Encoding headers' },
  EBADTE: { status: 400, reason: 'unsupported Transfer-Encoding' },
  EEMPTYNAME: { status: 400, reason: 'empty header name' },
  EHEADERSTIMEOUT: { status: 408, reason: 'request timeout' },
  EHEADERSTOOLARGE: { status: 431, reason: 'request header fields too large' },
  ETOOMANYHEADERS: { status: 431, reason: 'too many header fields' },
  EHTTPVERSION: { status: 505, reason: 'unsupported HTTP version' },
} as const satisfies Record<string, Refusal>;

const FALLBACK: ProxyErrorResponse = { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'proxy error' };

/** Maps any error to the response the client gets. */
export function errorResponse(err: unknown): ProxyErrorResponse {
  const code = errorCode(err);
  if (code === undefined) return FALLBACK;
  if (code.startsWith('HPE_')) return ERROR_TABLE.EBADRESPONSE!;
  return ERROR_TABLE[code] ?? FALLBACK;
}
