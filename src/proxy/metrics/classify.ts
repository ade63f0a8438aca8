// Decides whether a response counts as a success or a failure, by Linkerd's default rules, so success
// rates mean the same thing in Fathom as in Linkerd's dashboards and PromQL.

export type Classification = 'success' | 'failure';

/**
 * gRPC codes that mean the server failed: Unknown 2, DeadlineExceeded 4, PermissionDenied 7, Internal 13,
 * Unavailable 14, DataLoss 15. Others (NotFound, InvalidArgument, ...) are the application answering.
 */
function isGrpcFailure(code: number): boolean {
  return code === 2 || code === 4 || code === 7 || code === 13 || code === 14 || code === 15;
}

/**
 * A gRPC status, when present, decides alone (gRPC failures travel inside HTTP 200s); otherwise an HTTP
 * status of 500 or more, or a stream error, is a failure. A stream error also fails a gRPC response, since
 * the status it carried never reached the client intact.
 */
export function classify(statusCode: number, grpcStatus: number | undefined, error?: string): Classification {
  if (error) return 'failure';
  if (grpcStatus !== undefined) return isGrpcFailure(grpcStatus) ? 'failure' : 'success';
  return statusCode >= 500 ? 'failure' : 'success';
}
