// What every stage of the proxy shares: configuration, the control-plane connection, metrics, the connection
// tracker, the HTTP/1 and HTTP/2 proxies for each direction, and a logger. Built once in proxy.ts.
import type { Logger } from '../lib/log.js';
import type { ProxyConfig } from './config.js';
import type { Mesh } from './mesh.js';
import type { Http1Proxy } from './http/http1.js';
import type { Http2Proxy } from './http2/http2.js';
import type { InboundTls } from './inbound/tls.js';
import type { ProxyMetrics } from './metrics/registry.js';
import type { LogicalServices } from './outbound/logical.js';
import type { ConnectionTracker } from './transport/connections.js';

export type Direction = 'inbound' | 'outbound';

export interface DirectionContext {
  readonly direction: Direction;
  readonly config: ProxyConfig;
  /** The control-plane connection; undefined in standalone mode. */
  readonly mesh: Mesh | undefined;
  /** Outbound with a control plane: the logical services being balanced over. */
  readonly services: LogicalServices | undefined;
  /** Inbound with a control plane: mTLS termination for connections to our identity. */
  readonly mtls: InboundTls | undefined;
  readonly metrics: ProxyMetrics;
  readonly tracker: ConnectionTracker;
  readonly http1: Http1Proxy;
  readonly http2: Http2Proxy;
  readonly connectTimeoutMs: number;
  readonly log: Logger;
}
