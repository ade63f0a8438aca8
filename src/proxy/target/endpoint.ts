// A concrete endpoint the proxy sends requests or connections to: where to connect, whether over mTLS to a
// peer proxy (and with which identity), whether HTTP/1 may ride HTTP/2 to it, and the metric labels of
// everything sent there. Built once per endpoint (outbound: per discovered endpoint; inbound: per
// connection) and shared by every request that picks it.
import type { SocketAddr } from '../../lib/addr.js';
import type { HttpSeries, Labels, ProxyMetrics } from '../metrics/registry.js';

/** mTLS to a meshed peer: its proxy must present this identity (and is sent it as SNI). */
export interface EndpointTls {
  readonly identity: string;
}

/** Opaque transport: connect to the peer proxy's inbound port and name the target port in a header. */
export interface EndpointTransport {
  /** The peer proxy's inbound listener (pod IP : 4143). */
  readonly addr: SocketAddr;
  /** The port inside the peer's pod, sent in the transport header. */
  readonly port: number;
}

export interface EndpointTargetInit {
  readonly addr: SocketAddr;
  /** `ip:port`, for logs, pools and the target_addr label. */
  readonly addrKey: string;
  readonly tls?: EndpointTls;
  /** HTTP/1 requests travel to it as HTTP/2 streams (its proxy downgrades them). Only with `tls`. */
  readonly h2?: boolean;
  readonly transport?: EndpointTransport;
  /** Labels of HTTP metrics of requests to it (the request's authority is added). */
  readonly labels: Labels;
  /** Labels of transport metrics of the connections opened to it (peer="dst"). */
  readonly connLabels: Labels;
}

/** Distinct authorities whose series one endpoint keeps handles for; past it, the registry's own cache serves. */
const MAX_CACHED_AUTHORITIES = 16;

export class EndpointTarget {
  readonly addr: SocketAddr;
  readonly addrKey: string;
  readonly tls: EndpointTls | undefined;
  readonly h2: boolean;
  readonly transport: EndpointTransport | undefined;
  readonly labels: Labels;
  readonly connLabels: Labels;
  /**
   * Pools are keyed by address *and* identity: a connection verified for one identity is never reused for
   * another (an endpoint address can move to another workload between discovery updates).
   */
  readonly poolKey: string;
  private readonly series = new Map<string, HttpSeries>();

  constructor(init: EndpointTargetInit) {
    this.addr = init.addr;
    this.addrKey = init.addrKey;
    this.tls = init.tls;
    this.h2 = init.tls !== undefined && init.h2 === true;
    this.transport = init.tls !== undefined ? init.transport : undefined;
    this.labels = init.labels;
    this.connLabels = init.connLabels;
    this.poolKey = init.tls ? `${init.addrKey}#${init.tls.identity}` : init.addrKey;
  }

  /** The HTTP series of requests for `authority` sent to this endpoint. */
  seriesFor(metrics: ProxyMetrics, authority: string): HttpSeries {
    return cachedSeries(this.series, metrics, this.labels, authority);
  }
}

/** A small per-owner cache of series by authority, so a request costs one Map lookup, not a label-set key. */
export function cachedSeries(cache: Map<string, HttpSeries>, metrics: ProxyMetrics, labels: Labels, authority: string): HttpSeries {
  let s = cache.get(authority);
  if (s === undefined) {
    s = metrics.http({ ...labels, authority });
    // A client could name endless authorities; past a few, stop caching (the registry still dedups).
    if (cache.size < MAX_CACHED_AUTHORITIES) cache.set(authority, s);
  }
  return s;
}
