// The one place where a failure inside the proxy becomes a response: an HTTP status, a gRPC status
// (for gRPC requests), and the `fathom-proxy-error` header naming the cause. docs/errors.md lists
// this table and a test keeps the two in agreement.
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
};

const FALLBACK: ProxyErrorResponse = { status: 502, grpcStatus: GRPC_UNAVAILABLE, reason: 'proxy error' };

/** Maps any error to the response the client gets. */
export function errorResponse(err: unknown): ProxyErrorResponse {
  const code = errorCode(err);
  if (code === undefined) return FALLBACK;
  if (code.startsWith('HPE_')) return ERROR_TABLE.EBADRESPONSE!;
  return ERROR_TABLE[code] ?? FALLBACK;
}
