// A logical service's endpoints as the data path sees them: an immutable snapshot, and how each
// Destination.Get update turns one snapshot into the next (model §2.1, hardening §1.3-1.4).
import { ipFromProto } from '../../api/net-addr.js';
import type { TcpAddress } from '../../api/gen/fathom/net.js';
import type { Update, WeightedAddr } from '../../api/gen/fathom/destination.js';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';

/** How to reach one endpoint and what to say about it in metrics. Immutable. */
export interface Endpoint {
  readonly addr: SocketAddr;
  /** `ip:port` (IPv6 in brackets): the endpoint's identity in the set and in the balancer. */
  readonly key: string;
  readonly weight: number;
  /** The identity its proxy presents (mTLS with this SNI); absent for unmeshed endpoints. */
  readonly identity?: string;
  /**
   * `h2`: its proxy takes HTTP/2, so HTTP/1 may ride HTTP/2 to it. `opaque-transport`: connect to its
   * proxy's inbound port (`opaqueTransportPort`) and send a transport header naming `addr.port`.
   */
  readonly protocolHint: 'h2' | 'opaque-transport' | undefined;
  readonly opaqueTransportPort?: number;
  /** The set's labels (namespace, service) merged with the endpoint's (pod, deployment, ...); exported with `dst_`. */
  readonly metricLabels: Readonly<Record<string, string>>;
}

export interface EndpointSnapshot {
  /**
   * Whether the service exists: `false` (no such service) lets the caller use the original destination;
   * `true` with no endpoints forbids it (failfast, 503). Undefined only when the controller never said.
   */
  readonly exists: boolean | undefined;
  /** By `Endpoint.key`. */
  readonly endpoints: ReadonlyMap<string, Endpoint>;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** The key of a wire address, or undefined when it carries no IP. */
export function keyOf(addr: TcpAddress | undefined): string | undefined {
  const ip = ipFromProto(addr?.ip);
  return ip === undefined || addr === undefined ? undefined : formatSocketAddr(ip, addr.port);
}

/** Converts one wire endpoint; undefined when it has no usable address. */
export function toEndpoint(wire: WeightedAddr, setLabels: Readonly<Record<string, string>> = NO_LABELS): Endpoint | undefined {
  const host = ipFromProto(wire.addr?.ip);
  if (host === undefined || !wire.addr) return undefined;
  const port = wire.addr.port;
  const strategy = wire.tlsIdentity?.strategy;
  const identity = strategy?.$case === 'dnsLikeIdentity' && strategy.value.name !== '' ? strategy.value.name : undefined;
  const hint = wire.protocolHint;
  // The controller sends h2 and, when the port is opaque, opaque_transport as well: the transport header
  // decides how the connection is made, so it wins.
  const opaqueTransportPort = hint?.opaqueTransport?.inboundPort || undefined;
  const protocolHint = opaqueTransportPort !== undefined ? 'opaque-transport' : hint?.protocol?.$case === 'h2' ? 'h2' : undefined;
  const labels = Object.keys(wire.metricLabels).length === 0 ? setLabels : Object.freeze({ ...setLabels, ...wire.metricLabels });
  const endpoint: Endpoint = {
    addr: Object.freeze({ host, port }),
    key: formatSocketAddr(host, port),
    weight: wire.weight,
    protocolHint,
    metricLabels: labels,
    ...(identity !== undefined ? { identity } : {}),
    ...(opaqueTransportPort !== undefined ? { opaqueTransportPort } : {}),
  };
  return Object.freeze(endpoint);
}

/**
 * The snapshot after `update`. `previous` undefined means "start from nothing": the first message of a
 * stream, including after a reconnect, replaces whatever was known (a reconnect that finds the service
 * empty or gone must drop the old endpoints). Tolerates duplicates and any order: adding a known key
 * replaces it (its metadata changed), removing an unknown key does nothing. Returns `previous` itself
 * when the update says nothing we understand.
 */
export function applyUpdate(previous: EndpointSnapshot | undefined, update: Update): EndpointSnapshot | undefined {
  const u = update.update;
  switch (u?.$case) {
    case 'add': {
      const endpoints = new Map(previous?.endpoints);
      const setLabels = Object.keys(u.value.metricLabels).length === 0 ? NO_LABELS : Object.freeze({ ...u.value.metricLabels });
      for (const wire of u.value.addrs) {
        const endpoint = toEndpoint(wire, setLabels);
        if (endpoint) endpoints.set(endpoint.key, endpoint);
      }
      return Object.freeze({ exists: true, endpoints });
    }
    case 'remove': {
      const endpoints = new Map(previous?.endpoints);
      for (const addr of u.value.addrs) {
        const key = keyOf(addr);
        if (key !== undefined) endpoints.delete(key);
      }
      // Only an existing service has endpoints to remove; removing the last one is "exists, empty".
      return Object.freeze({ exists: true, endpoints });
    }
    case 'noEndpoints':
      return Object.freeze({ exists: u.value.exists, endpoints: new Map() });
    default:
      // An update with nothing set (a newer controller's field we do not know): nothing changes.
      return previous;
  }
}
