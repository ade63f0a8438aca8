// Assembles the control plane: the platform, the CA and the controller's own TLS identity, and one gRPC
// server carrying the Destination and Identity services. Tests start it in-process; main.ts from flags.
import { experimental, Server } from '@grpc/grpc-js';
import { formatSocketAddr } from '../lib/addr.js';
import { identityName } from '../lib/identity-name.js';
import { logger } from '../lib/log.js';
import { PROXY_PORTS } from '../lib/mesh-names.js';
import { DestinationService } from '../api/gen/fathom/destination.js';
import { IdentityService } from '../api/gen/fathom/identity.js';
import type { Platform } from '../platform/platform.js';
import type { ControllerConfig } from './config.js';
import { DestinationApi } from './destination/server.js';
import { anchorsPem, caPaths, loadOrCreateCA, type CertificateAuthority } from './identity/ca.js';
import { Issuer } from './identity/issuer.js';
import { IdentityApi } from './identity/service.js';
import { MetricsApiServer } from './metrics-api/server.js';
import { controllerMetricsApi } from './metrics-api/start.js';
import { ServingIdentity } from './serving-identity.js';
import { TapApi } from './tap/api.js';
import { GrpcTapSource } from './tap/source.js';
import { DashboardServer } from './web/server.js';

const log = logger('controller');

/** The controller's service account; its identity is `controller.<ns>.serviceaccount.identity.<ns>.<td>`. */
export const CONTROLLER_SERVICE_ACCOUNT = 'controller';

/** How long shutdown waits for calls to finish before cutting them. */
const SHUTDOWN_GRACE_MS = 5_000;

type Config = Pick<
  ControllerConfig,
  'addr' | 'stateDir' | 'trustDomain' | 'controlNamespace' | 'clusterDomain' | 'issuanceLifetimeMs' | 'clockSkewMs' | 'caFiles' | 'defaultOpaquePorts'
> &
  // Without apiAddr there is no metrics API (tests of the gRPC services leave it out).
  Partial<Pick<ControllerConfig, 'apiAddr' | 'prometheusUrl' | 'dashboardAddr'>>;

/** Wraps the serving identity so grpc-js gets the trust anchors as its CA certificate. */
function tlsProvider(serving: ServingIdentity, anchors: string): experimental.CertificateProvider {
  return {
    // Asynchronously, like every provider here: grpc-js registers its watcher only after adding listeners.
    addCaCertificateListener: (listener) => queueMicrotask(() => listener({ caCertificate: Buffer.from(anchors) })),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: (listener) => serving.addIdentityCertificateListener(listener),
    removeIdentityCertificateListener: (listener) => serving.removeIdentityCertificateListener(listener),
  };
}

export class Controller {
  private constructor(
    /** The port the gRPC server listens on (useful when started on port 0). */
    readonly port: number,
    /** The controller's TLS identity, which clients verify. */
    readonly identity: string,
    readonly ca: CertificateAuthority,
    /** PEM bundle of trust anchors, also at `<stateDir>/trust-anchors.pem`. */
    readonly trustAnchorsPem: string,
    readonly trustAnchorsPath: string,
    readonly platform: Platform,
    private readonly server: Server,
    private readonly destination: DestinationApi,
    private readonly serving: ServingIdentity,
    /** The metrics API's HTTP server, when the controller was given an API address. */
    private readonly api: MetricsApiServer | undefined,
    /** The web dashboard's server, when the controller was given a dashboard address. */
    private readonly dashboard: DashboardServer | undefined,
  ) {}

  /** The port the metrics API listens on, or undefined without one. */
  get apiPort(): number | undefined {
    return this.api?.port;
  }

  /** The port the web dashboard listens on, or undefined without one. */
  get dashboardPort(): number | undefined {
    return this.dashboard?.port;
  }

  static async start(config: Config, platform: Platform): Promise<Controller> {
    await platform.start();
    const identity = identityName(CONTROLLER_SERVICE_ACCOUNT, config.controlNamespace, config.trustDomain, config.controlNamespace);
    let ca: CertificateAuthority;
    let issuer: Issuer;
    let serving: ServingIdentity;
    try {
      ca = await loadOrCreateCA({ stateDir: config.stateDir, trustDomain: config.trustDomain, files: config.caFiles });
      issuer = new Issuer(ca, { lifetimeMs: config.issuanceLifetimeMs, clockSkewMs: config.clockSkewMs });
      serving = new ServingIdentity(identity, issuer);
      await serving.start();
    } catch (err) {
      await platform.close();
      throw err;
    }

    const mesh = { trustDomain: config.trustDomain, controlNamespace: config.controlNamespace, defaultOpaquePorts: config.defaultOpaquePorts };
    const destination = new DestinationApi(platform, { ...mesh, clusterDomain: config.clusterDomain });
    const identityApi = new IdentityApi(platform, issuer, mesh);
    const server = new Server({
      // Discovery streams live for hours: ping idle clients so that dead ones are noticed and dropped.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
    });
    server.addService(DestinationService, destination.handlers());
    server.addService(IdentityService, identityApi.handlers());

    // Clients may present a certificate (proxies have one) but need not: identity is how they get one.
    // grpc-js 1.14 names this function's two providers the other way round from how it uses them, so
    // the same provider, serving both roles, goes in both places.
    const anchors = anchorsPem(ca);
    const provider = tlsProvider(serving, anchors);
    const credentials = experimental.createCertificateProviderServerCredentials(provider, provider, false);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(formatSocketAddr(config.addr.host, config.addr.port), credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
    }).catch(async (err: unknown) => {
      serving.close();
      destination.close();
      await platform.close();
      throw new Error(`cannot listen on ${formatSocketAddr(config.addr.host, config.addr.port)}: ${(err as Error).message}`, { cause: err });
    });
    log.info('serving destination and identity over TLS', {
      addr: formatSocketAddr(config.addr.host, port),
      identity,
      platform: platform.kind,
      trustAnchors: caPaths(config.stateDir).trustAnchorsPem,
    });
    let api: MetricsApiServer | undefined;
    let dashboard: DashboardServer | undefined;
    if (config.apiAddr || config.dashboardAddr) {
      const metricsApi = controllerMetricsApi({ ...config, prometheusUrl: config.prometheusUrl, grpcAddr: { host: config.addr.host, port } }, platform);
      // The tap API shares the servers; it reaches proxies over mTLS as the controller's identity.
      const tap = new TapApi({ platform, source: new GrpcTapSource(provider), trustDomain: config.trustDomain, controlNamespace: config.controlNamespace, tapPort: PROXY_PORTS.tap });
      try {
        if (config.apiAddr) {
          api = await MetricsApiServer.listen(config.apiAddr, metricsApi, [tap]);
          log.info('serving the metrics API over HTTP', { addr: formatSocketAddr(config.apiAddr.host, api.port), prometheus: config.prometheusUrl });
        }
        if (config.dashboardAddr) {
          dashboard = await DashboardServer.listen(config.dashboardAddr, { apis: [tap, metricsApi] });
          log.info('serving the web dashboard', { url: `http://${formatSocketAddr(config.dashboardAddr.host, dashboard.port)}/` });
        }
      } catch (err) {
        await api?.close();
        server.forceShutdown();
        serving.close();
        destination.close();
        await platform.close();
        throw err;
      }
    }
    return new Controller(port, identity, ca, anchors, caPaths(config.stateDir).trustAnchorsPem, platform, server, destination, serving, api, dashboard);
  }

  /** Discovery streams currently open (Get and GetProfile). */
  get openStreams(): number {
    return this.destination.openStreams;
  }

  /** Ends open streams, waits briefly for calls in flight, then stops everything. */
  async close(): Promise<void> {
    await Promise.all([this.api?.close(), this.dashboard?.close()]);
    this.destination.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.serving.close();
    await this.platform.close();
  }
}
