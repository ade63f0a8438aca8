// The two peers of a tapped request, as the exchanges see them: built only when the hub is active, from what
// the connection (its socket and HttpTarget) and the chosen EndpointTarget already hold. Labels are built
// once per endpoint (outbound destination) or per connection (inbound source), then reused.
import type { IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { EndpointTarget } from '../target/endpoint.js';
import type { HttpTarget } from '../target/selector.js';
import { inboundSourceLabels, NO_TAP_LABELS, outboundDestinationLabels, type TapLabels, type TapPeer, type TapRequest } from './request.js';

export interface TapPeers {
  readonly direction: 'inbound' | 'outbound';
  readonly source: TapPeer;
  readonly destination: TapPeer;
}

const destinationLabels = new WeakMap<EndpointTarget, TapLabels>();
const sourceLabels = new WeakMap<HttpTarget, TapLabels>();

/** Linkerd's tap `tls` label: `true`, or why the connection is not mTLS. */
function tlsLabel(labels: Readonly<Record<string, string>>): string {
  const tls = labels.tls ?? 'disabled';
  return tls === 'true' ? tls : (labels.no_tls_reason ?? tls);
}

function outboundLabels(endpoint: EndpointTarget): TapLabels {
  let labels = destinationLabels.get(endpoint);
  if (labels === undefined) {
    const discovery: Record<string, string> = {};
    for (const [name, value] of Object.entries(endpoint.labels)) if (name.startsWith('dst_')) discovery[name.slice(4)] = value;
    labels = outboundDestinationLabels(discovery, tlsLabel(endpoint.labels), endpoint.tls?.identity);
    destinationLabels.set(endpoint, labels);
  }
  return labels;
}

function inboundLabels(target: HttpTarget, endpoint: EndpointTarget): TapLabels {
  let labels = sourceLabels.get(target);
  if (labels === undefined) {
    labels = inboundSourceLabels(tlsLabel(endpoint.labels), target.clientId);
    sourceLabels.set(target, labels);
  }
  return labels;
}

/**
 * The source (the client socket's remote address) and destination of a request: outbound, the chosen
 * endpoint with its discovery labels; inbound, the original destination (the pod's ip:port).
 */
export function tapPeers(socket: Socket | undefined, target: HttpTarget, endpoint: EndpointTarget): TapPeers {
  const remote = { ip: socket?.remoteAddress ?? '', port: socket?.remotePort ?? 0 };
  if (endpoint.labels.direction === 'inbound') {
    const dst = target.dst ?? endpoint.addr;
    return {
      direction: 'inbound',
      source: { ...remote, labels: inboundLabels(target, endpoint) },
      destination: { ip: dst.host, port: dst.port, labels: NO_TAP_LABELS },
    };
  }
  return {
    direction: 'outbound',
    source: { ...remote, labels: NO_TAP_LABELS },
    destination: { ip: endpoint.addr.host, port: endpoint.addr.port, labels: outboundLabels(endpoint) },
  };
}

/** A tapped HTTP/2 request: its peers, and its method, scheme and path from the pseudo-headers. */
export function h2TapRequest(socket: Socket | undefined, target: HttpTarget, endpoint: EndpointTarget, authority: string | undefined, headers: IncomingHttpHeaders): TapRequest {
  return {
    ...tapPeers(socket, target, endpoint),
    method: String(headers[':method'] ?? 'GET'),
    scheme: String(headers[':scheme'] ?? 'http'),
    authority: authority ?? '',
    path: String(headers[':path'] ?? '/'),
    headers,
  };
}
