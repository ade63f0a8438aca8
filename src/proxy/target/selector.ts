// How a request (HTTP) or a connection (TCP) gets its endpoint: a Selector chooses one per call, from a
// fixed endpoint (standalone, inbound, an original destination) or a balancer over a logical service's
// endpoints (outbound with a control plane). The data path never knows which.
import type { FathomError } from '../../lib/errors.js';
import type { SocketAddr } from '../../lib/addr.js';
import type { HttpSeries, Labels, ProxyMetrics } from '../metrics/registry.js';
import { cachedSeries, type EndpointTarget } from './endpoint.js';

/** One request's (or connection's) claim on the endpoint it was given, for the balancer's bookkeeping. */
export interface Claim {
  /** The endpoint answered (first response headers, or TCP connected): count it out and learn its latency. */
  done(): void;
  /** Finished without a latency worth learning (failed, or never sent). */
  cancel(): void;
  /** The endpoint could not be reached: skip it for a while (the caller also cancels). */
  markUnavailable(): void;
}

/** Called once with the endpoint, or with the error to answer (EDISCOVERYTIMEOUT, ENOENDPOINTS, ...). */
export type Selected = (err: FathomError | undefined, endpoint?: EndpointTarget, claim?: Claim) => void;

export interface Selector {
  /** Chooses an endpoint; calls `done` synchronously when one is at hand. */
  select(done: Selected): void;
  /** The HTTP series of requests for `authority` that failed before an endpoint was chosen. */
  failureSeries(metrics: ProxyMetrics, authority: string): HttpSeries;
}

/** What HTTP/1 and HTTP/2 serving need to know about a connection. */
export interface HttpTarget {
  readonly selector: Selector;
  /** Inbound over mTLS: the client's verified identity, sent to the app as `fathom-client-id`. */
  readonly clientId?: string;
  /** Inbound: the connection's original destination (the pod's ip:port), as tap reports it. */
  readonly dst?: SocketAddr;
}

/** For endpoints that are not balanced: nothing to count. */
export const NO_CLAIM: Claim = Object.freeze({ done() {}, cancel() {}, markUnavailable() {} });

/** Always the same endpoint, chosen synchronously and without allocation. */
export class FixedSelector implements Selector {
  constructor(readonly endpoint: EndpointTarget) {}

  select(done: Selected): void {
    done(undefined, this.endpoint, NO_CLAIM);
  }

  failureSeries(metrics: ProxyMetrics, authority: string): HttpSeries {
    return this.endpoint.seriesFor(metrics, authority);
  }
}

/** Series by authority for a selector's own labels (requests that never reached an endpoint). */
export class FailureSeries {
  private readonly cache = new Map<string, HttpSeries>();
  constructor(private readonly labels: Labels) {}

  get(metrics: ProxyMetrics, authority: string): HttpSeries {
    return cachedSeries(this.cache, metrics, this.labels, authority);
  }
}
