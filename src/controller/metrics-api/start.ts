// Builds the metrics API for a running controller: its Prometheus client, the platform's inventory, and
// the context its checks run in (the controller's gRPC address, CA files, clock allowance).
import type { SocketAddr } from '../../lib/addr.js';
import type { Platform } from '../../platform/platform.js';
import { caPaths, type CaFiles } from '../identity/ca.js';
import { platformInventory } from './inventory.js';
import { PrometheusClient } from './prometheus.js';
import { MetricsApi } from './server.js';
import { controllerVersion } from './version.js';

/** The Prometheus scrape job of proxies, as the local platform's generated configuration names it. */
export const PROXY_JOB = 'fathom-proxy';

export interface MetricsApiConfig {
  /** Undefined to run without Prometheus (metrics endpoints answer 503, checks say why). */
  readonly prometheusUrl: string | undefined;
  readonly stateDir: string;
  readonly caFiles: CaFiles | undefined;
  readonly clockSkewMs: number;
  readonly clusterDomain: string;
  /** Where the controller's gRPC server listens, once bound. */
  readonly grpcAddr: SocketAddr;
}

/** The metrics API of a running controller, to serve on its own server and on the dashboard's. */
export function controllerMetricsApi(config: MetricsApiConfig, platform: Platform): MetricsApi {
  const prometheus = config.prometheusUrl === undefined ? undefined : new PrometheusClient(config.prometheusUrl);
  const inventory = platformInventory(platform);
  const version = controllerVersion();
  return new MetricsApi({
    prometheus,
    inventory,
    clusterDomain: config.clusterDomain,
    platformKind: platform.kind,
    version,
    checkContext: (client) => ({
      now: Date.now,
      version,
      grpcAddr: config.grpcAddr,
      platformKind: platform.kind,
      inventory,
      clockSkewMs: config.clockSkewMs,
      caFiles: {
        trustAnchors: config.caFiles?.trustAnchor ?? caPaths(config.stateDir).trustAnchorsPem,
        issuerCert: config.caFiles?.issuerCert ?? caPaths(config.stateDir).issuerCert,
      },
      prometheus: prometheus && { url: prometheus.url, ready: () => prometheus.ready(), query: (q) => prometheus.query(q) },
      proxyJob: PROXY_JOB,
      client,
    }),
  });
}
