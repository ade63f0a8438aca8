// Opens an HTTP/1 request to an endpoint the way every HTTP/1 path of the proxy does: the head as given
// (no Host of Node's own), response fields never dropped, a new connection counted in the transport
// metrics and abandoned with ECONNECTTIMEOUT when it does not connect in time.
import { request as httpRequest, type Agent, type ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { EndpointTarget } from '../target/endpoint.js';
import { afterPendingIo } from '../transport/connect.js';
import type { ConnectionTracker } from '../transport/connections.js';

export interface UpstreamRequest {
  readonly method: string | undefined;
  readonly path: string | undefined;
  /** Raw header pairs (name, value, name, value...). */
  readonly headers: readonly string[];
  readonly agent: Agent;
  readonly maxHeaderBytes: number;
  readonly connectTimeoutMs: number;
  readonly tracker: ConnectionTracker;
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
  up.once('socket', (socket: Socket) => {
    if (!socket.connecting) return; // a pooled connection: counted when it was opened
    r.tracker.track(socket, endpoint.connLabels);
    const timeout = () =>
      afterPendingIo(() => socket.connecting && up.destroy(Object.assign(new Error(`connect timed out after ${r.connectTimeoutMs}ms`), { code: 'ECONNECTTIMEOUT' })));
    const timer = setTimeout(timeout, r.connectTimeoutMs);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
  return up;
}
