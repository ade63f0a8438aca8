// The outbound proxy's endpoints: a discovered endpoint (mTLS with SNI = its identity when it has one,
// HTTP/1 riding HTTP/2 when its proxy takes it, opaque transport through its proxy's inbound port, and the
// controller's metric labels exported with a `dst_` prefix), or an original destination sent in clear.
import { networkInterfaces } from 'node:os';
import type { SocketAddr } from '../../lib/addr.js';
import type { Endpoint } from '../discover/endpoints.js';
import type { Labels } from '../metrics/registry.js';
import { EndpointTarget } from '../target/endpoint.js';
import { addrKey } from '../transport/target.js';

/** Linkerd's client-side TLS labels: why a connection is not mTLS. */
const NO_IDENTITY_FROM_DISCOVERY: Labels = { tls: 'no_identity', no_tls_reason: 'not_provided_by_service_discovery' };
const STANDALONE: Labels = { tls: 'disabled' };
const LOOPBACK: Labels = { tls: 'no_identity', no_tls_reason: 'loopback' };

/**
 * The original destination, in clear: standalone (tls="disabled"), or with a control plane that gave no
 * identity for it (outside the discovery networks, or unknown to the controller).
 */
export function forwardEndpoint(dst: SocketAddr, meshed: boolean): EndpointTarget {
  const key = addrKey(dst);
  const tls = meshed ? NO_IDENTITY_FROM_DISCOVERY : STANDALONE;
  return new EndpointTarget({
    addr: dst,
    addrKey: key,
    labels: { direction: 'outbound', target_addr: key, ...tls },
    connLabels: { direction: 'outbound', peer: 'dst', target_addr: key, ...tls },
  });
}

/**
 * An endpoint the controller named (a logical service's, or the one pod behind a pod IP). An endpoint in
 * this very pod is reached in clear: the proxy's own connections are not redirected, so mTLS to it would
 * land on the app itself rather than on our inbound listener.
 */
export function discoveredEndpoint(e: Endpoint, isLocal: (ip: string) => boolean = localAddress): EndpointTarget {
  const local = isLocal(e.addr.host);
  const identity = local ? undefined : e.identity;
  const tls: Labels = identity !== undefined ? { tls: 'true', server_id: identity } : local ? LOOPBACK : NO_IDENTITY_FROM_DISCOVERY;
  const dst: Record<string, string> = {};
  for (const [name, value] of Object.entries(e.metricLabels)) dst[`dst_${name}`] = value;
  return new EndpointTarget({
    addr: e.addr,
    addrKey: e.key,
    tls: identity !== undefined ? { identity } : undefined,
    // The controller hints h2 for every meshed pod (and opaque transport on top for opaque ports, which
    // then carries HTTP/2 too, announced in the transport header).
    h2: e.protocolHint !== undefined,
    transport: e.protocolHint === 'opaque-transport' && e.opaqueTransportPort !== undefined ? { addr: { host: e.addr.host, port: e.opaqueTransportPort }, port: e.addr.port } : undefined,
    labels: { direction: 'outbound', target_addr: e.key, ...tls, ...dst },
    connLabels: { direction: 'outbound', peer: 'dst', target_addr: e.key, ...tls, ...dst },
  });
}

/** True when `ip` is an address of this pod (read when endpoints change, not per request). */
export function localAddress(ip: string): boolean {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.address === ip) return true;
  }
  return false;
}
