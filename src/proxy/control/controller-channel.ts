// How the proxy reaches the controller: a gRPC target and TLS credentials that accept only a server
// certificate for the controller's identity, chained to the mesh's trust anchors (docs/controller.md).
import { credentials, status, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';
import { DEFAULT_BACKOFF_MAX_MS, DEFAULT_BACKOFF_MIN_MS } from './backoff.js';

export interface ControllerEndpoint {
  /** Where the controller listens (destination and identity share one address). */
  addr: SocketAddr;
  /** The identity the controller must present: `controller.fathom.serviceaccount.identity.fathom.<td>`. */
  identity: string;
  /** PEM bundle of the mesh's trust anchors. */
  trustAnchorsPem: string;
}

export interface ControllerChannel {
  target: string;
  credentials: ChannelCredentials;
  options: ChannelOptions;
}

/** The arguments for a generated grpc-js client (`new DestinationClient(c.target, c.credentials, c.options)`). */
export function controllerChannel(controller: ControllerEndpoint): ControllerChannel {
  return {
    target: formatSocketAddr(controller.addr.host, controller.addr.port),
    // No client certificate: the controller does not ask for one, and the identity client has none yet.
    credentials: credentials.createSsl(Buffer.from(controller.trustAnchorsPem)),
    options: {
      // The controller is dialled by IP, but its certificate names its identity: check that name (and send
      // it as SNI) instead of the address. A server with any other identity fails the handshake.
      'grpc.ssl_target_name_override': controller.identity,
      'grpc.default_authority': controller.identity,
      // grpc-js reconnects on its own schedule (1 s to 120 s by default); align it with ours so that a
      // restarted controller is found within our backoff, not minutes later.
      'grpc.initial_reconnect_backoff_ms': DEFAULT_BACKOFF_MIN_MS,
      'grpc.max_reconnect_backoff_ms': DEFAULT_BACKOFF_MAX_MS,
      // Discovery streams are idle for hours; pings notice a controller that vanished without closing
      // the connection (a node lost), so the streams reconnect elsewhere instead of waiting forever.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
    },
  };
}

/** `UNAVAILABLE: message` for a gRPC error, else the error's message: the reason we log. */
export function describeGrpcError(err: unknown): string {
  const e = err as { code?: unknown; details?: unknown; message?: unknown } | null;
  if (e && typeof e.code === 'number' && typeof e.details === 'string') {
    // grpc-js appends an empty "Resolution note: " to connection failures; it says nothing.
    return `${status[e.code] ?? `code ${e.code}`}: ${e.details.replace(/\.? Resolution note: $/, '')}`;
  }
  return e && typeof e.message === 'string' ? e.message : String(err);
}
