// The controller's own TLS identity (`controller.fathom.serviceaccount.identity.fathom.<td>`), issued by
// its own CA at start and renewed before it expires, published to grpc-js as a certificate provider so
// that the server picks up each renewal without a restart.
import type { experimental } from '@grpc/grpc-js';
import { logger } from '../lib/log.js';
import type { Issuer } from './identity/issuer.js';
import { generateP256, privateKeyToPem } from './identity/x509.js';

type IdentityUpdate = experimental.IdentityCertificateUpdate;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

const log = logger('controller');

/** Renew at 70 % of the remaining validity, as proxies do (model §3), and never sooner than this. */
const MIN_REFRESH_MS = 10_000;

export class ServingIdentity implements experimental.CertificateProvider {
  private latest: IdentityUpdate | undefined;
  private readonly listeners = new Set<IdentityListener>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** PEM of the current chain (leaf then issuer), for tests and diagnostics. */
  certificatePem = '';
  validUntil = new Date(0);

  constructor(
    readonly name: string,
    private readonly issuer: Issuer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Issues the first certificate; later ones follow on a timer until close(). */
  async start(): Promise<void> {
    await this.renew();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async renew(): Promise<void> {
    const keys = await generateP256();
    const issued = await this.issuer.issue(this.name, keys.publicKey);
    this.certificatePem = [issued.leaf, ...issued.intermediates].map((c) => c.toString('pem')).join('\n') + '\n';
    this.validUntil = issued.validUntil;
    this.latest = { certificate: Buffer.from(this.certificatePem), privateKey: Buffer.from(await privateKeyToPem(keys.privateKey)) };
    for (const listener of this.listeners) listener(this.latest);
    if (this.closed) return;
    this.schedule(Math.max(MIN_REFRESH_MS, (issued.validUntil.getTime() - this.now().getTime()) * 0.7));
    log.debug('controller certificate issued', { identity: this.name, validUntil: issued.validUntil.toISOString() });
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.renew().catch((err: unknown) => {
        log.error('cannot renew the controller certificate; retrying', { error: err as Error });
        if (!this.closed) this.schedule(MIN_REFRESH_MS);
      });
    }, delayMs).unref();
  }

  // --- grpc-js CertificateProvider ---------------------------------------------------------------

  addCaCertificateListener(): void {
    // Clients are not asked for certificates: the controller has no CA certificate to offer.
  }

  removeCaCertificateListener(): void {}

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.listeners.add(listener);
    // Not synchronously: grpc-js adds its own watcher only after this returns, and would miss the update.
    queueMicrotask(() => {
      if (this.latest && this.listeners.has(listener)) listener(this.latest);
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.listeners.delete(listener);
  }
}
