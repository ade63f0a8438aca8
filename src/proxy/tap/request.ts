// What the data path tells the tap about one HTTP request: its two peers with their metadata labels, its
// direction, and its request line. The exchange builds it only when `TapHub.active` is true.

/** Metadata labels of a peer, as Linkerd's tap reports them (see `peerLabels` for the keys). */
export type TapLabels = Readonly<Record<string, string>>;

/** One side of a request: its address and what the proxy knows about it. */
export interface TapPeer {
  /** The peer's IP as Node reports it; an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is read as IPv4. */
  readonly ip: string;
  readonly port: number;
  readonly labels: TapLabels;
}

/**
 * Header fields in either of Node's forms: `rawHeaders` (name, value, name, value...) from node:http, or
 * a header object from node:http2 (pseudo-headers included). Encoded only for watchers that asked for them.
 */
export type TapHeaders = readonly string[] | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface TapRequest {
  readonly direction: 'inbound' | 'outbound';
  /** Inbound: the connecting peer (labels `tls`, `client_id`); outbound: this pod's app. */
  readonly source: TapPeer;
  /** Inbound: the app's port in this pod; outbound: the chosen endpoint (its discovery labels, `tls`, `server_id`). */
  readonly destination: TapPeer;
  /** Labels of the service-profile route the request matched, if any (`rt_route`...). */
  readonly routeLabels?: TapLabels;
  /** As sent: `GET`, `POST`... */
  readonly method: string;
  /** `http` or `https`. */
  readonly scheme: string;
  /** The `:authority`, or the `Host` header for HTTP/1; empty when the request had none. */
  readonly authority: string;
  /** The path and query. */
  readonly path: string;
  readonly headers?: TapHeaders;
}

/** The labels of a side the proxy knows nothing more about (inbound destination, outbound source). */
export const NO_TAP_LABELS: TapLabels = Object.freeze({});

/**
 * An inbound source's labels, built once per connection: `tls` is `true` or why there is no mTLS
 * (`no_identity`, `disabled`...); `client_id` is the verified client identity.
 */
export function inboundSourceLabels(tls: string, clientId: string | undefined): TapLabels {
  const labels: Record<string, string> = { tls };
  if (clientId !== undefined) labels.client_id = clientId;
  return Object.freeze(labels);
}

/**
 * An outbound destination's labels, built once per endpoint: its discovery labels (`namespace`, `service`,
 * `pod`, `deployment`, `serviceaccount`...) **without** the `dst_` prefix metrics give them, as in Linkerd's
 * tap; `tls` (`true` or the reason, e.g. `not_provided_by_service_discovery`) and `server_id`.
 */
export function outboundDestinationLabels(discovery: TapLabels, tls: string, serverId: string | undefined): TapLabels {
  const labels: Record<string, string> = { ...discovery, tls };
  if (serverId !== undefined) labels.server_id = serverId;
  return Object.freeze(labels);
}
