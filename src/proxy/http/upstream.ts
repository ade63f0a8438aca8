// Opens an HTTP/1 request to an endpoint the way every HTTP/1 path of the proxy does: the head as given
// (no Host of Node's own), response fields never dropped, over the endpoint's pooled connections (pool.ts
// counts new ones in the transport metrics and fails those that do not connect in time).
import { request as httpRequest, type Agent, type ClientRequest } from 'node:http';
import type { EndpointTarget } from '../target/endpoint.js';

export interface UpstreamRequest {
  readonly method: string | undefined;
  readonly path: string | undefined;
  /** Raw header pairs (name, value, name, value...). */
  readonly headers: readonly string[];
  /** The endpoint's connections: Http1Pool.agent(endpoint). */
  readonly agent: Agent;
  readonly maxHeaderBytes: number;
}

export function requestUpstream(endpoint: EndpointTarget, r: UpstreamRequest): ClientRequest {
  const up = httpRequest({
    host: endpoint.addr.host,
    port: endpoint.addr.port,
    method: r.method,
    path: r.path,
    headers: r.headers as unknown as Record<string, string>,
    setHost: false,
    agent: r.agent,
    maxHeaderSize: r.maxHeaderBytes,
    joinDuplicateHeaders: false,
  });
  // Node would silently drop response fields past 2000; the head is bounded by maxHeaderSize anyway.
  up.maxHeadersCount = 0;
  return up;
}
