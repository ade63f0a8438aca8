// The proxy's identity: certifies its key with the controller's Identity service, installs each
// certificate in the IdentityStore and renews it at 70 % of its remaining validity (model §3).
import { IdentityClient as IdentityGrpcClient } from '../../api/gen/fathom/identity.js';
import type { SocketAddr } from '../../lib/addr.js';
import { logger, type Logger } from '../../lib/log.js';
import { Backoff, realTimers, type BackoffOptions, type Timers } from '../control/backoff.js';
import { controllerChannel } from '../control/controller-channel.js';
import { buildCsr, generateIdentityKey, privateKeyPem } from '../tls/identity.js';
import type { IdentityStore } from '../tls/store.js';
import { certify, type PendingCertify } from './certify.js';

/** Linkerd's bounds on the renewal delay (env.rs DEFAULT_IDENTITY_{MIN,MAX}_REFRESH). */
export const DEFAULT_MIN_REFRESH_MS = 10_000;
export const DEFAULT_MAX_REFRESH_MS = 24 * 3600_000;
/** Linkerd's control-plane failfast: how long one Certify call may take. */
export const DEFAULT_CERTIFY_TIMEOUT_MS = 10_000;

export interface IdentityOptions {
  controllerAddr: SocketAddr;
  /** The identity the controller must present: `controller.fathom.serviceaccount.identity.fathom.<td>`. */
  controllerIdentity: string;
  trustAnchorsPem: string;
  /** This proxy's identity, `<sa>.<ns>.serviceaccount.identity.fathom.<td>`. */
  identity: string;
  /** Reads the service account token (its file, each time: the platform may rotate it). */
  token: () => Promise<Buffer>;
  store: IdentityStore;
  minRefreshMs?: number;
  maxRefreshMs?: number;
  /** Backoff between attempts until the first certificate (default 100 ms doubling to 10 s, jittered). */
  backoff?: BackoffOptions;
  certifyTimeoutMs?: number;
  /** Wall-clock milliseconds, to compare with certificate expiry. */
  now?: () => number;
  timers?: Timers;
  log?: Logger;
}

export interface IdentityClient {
  /** Resolves once the first certificate is installed (the proxy is `/ready`); never rejects. */
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** identity_cert_expiration_timestamp_seconds: the current certificate's notAfter, or undefined before one. */
  expirationTimestampSeconds(): number | undefined;
  /** identity_cert_refresh_count: certificates installed so far, the first included. */
  refreshCount(): number;
  /** Stops renewing and closes the channel; the store keeps the current certificate. */
  close(): void;
}

/** When to renew: 70 % of the remaining validity, within [min, max] (Linkerd's certify.rs). */
export function refreshDelayMs(notAfterMs: number, nowMs: number, minMs: number, maxMs: number): number {
  const delay = Math.floor(((notAfterMs - nowMs) * 7) / 10);
  return Math.min(maxMs, Math.max(minMs, delay));
}

/** Starts certifying at once; see IdentityClient. Throws (FathomError EIDENTITY) for an identity that is not a DNS name. */
export function startIdentity(opts: IdentityOptions): IdentityClient {
  const log = opts.log ?? logger('identity');
  const timers = opts.timers ?? realTimers;
  const now = opts.now ?? Date.now;
  const minRefreshMs = opts.minRefreshMs ?? DEFAULT_MIN_REFRESH_MS;
  const maxRefreshMs = opts.maxRefreshMs ?? DEFAULT_MAX_REFRESH_MS;
  const certifyTimeoutMs = opts.certifyTimeoutMs ?? DEFAULT_CERTIFY_TIMEOUT_MS;
  const backoff = new Backoff(opts.backoff);

  // One key for the life of the process, as Linkerd: renewals re-certify the same CSR, and the key
  // never leaves memory.
  const key = generateIdentityKey();
  const csrDer = buildCsr(opts.identity, key);
  const keyPem = privateKeyPem(key);

  const channel = controllerChannel({ addr: opts.controllerAddr, identity: opts.controllerIdentity, trustAnchorsPem: opts.trustAnchorsPem });
  const client = new IdentityGrpcClient(channel.target, channel.credentials, channel.options);

  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  let refreshes = 0;
  let expiresAtMs: number | undefined;
  let timer: unknown;
  let pending: PendingCertify | undefined;
  let closed = false;

  const schedule = (delayMs: number) => {
    if (!closed) timer = timers.setTimeout(() => void attempt(), delayMs);
  };

  const fail = (reason: string) => {
    if (closed) return;
    // Before the first certificate, back off quickly so the proxy becomes ready soon after the controller
    // does; afterwards the current certificate still works, so retry at the gentle minimum interval.
    const delayMs = refreshes === 0 ? backoff.next() : minRefreshMs;
    const expired = expiresAtMs !== undefined && expiresAtMs <= now();
    log.warn(expired ? 'cannot renew identity and the certificate has expired; retrying' : 'cannot certify identity; retrying', {
      identity: opts.identity,
      reason,
      retryInMs: delayMs,
    });
    schedule(delayMs);
  };

  async function attempt(): Promise<void> {
    timer = undefined;
    let token: Buffer;
    try {
      token = await opts.token();
    } catch (err) {
      return fail(`cannot read the service account token: ${(err as Error).message}`);
    }
    if (closed) return;
    pending = certify(client, { identity: opts.identity, token, csrDer }, certifyTimeoutMs);
    let chainPem: string;
    try {
      ({ chainPem } = await pending.result);
    } catch (err) {
      return fail((err as Error).message);
    } finally {
      pending = undefined;
    }
    if (closed) return;
    try {
      // The store checks the answer (our identity, our key, valid now, chained to the anchors) and keeps
      // the previous certificate if anything is wrong.
      opts.store.update(chainPem, keyPem);
    } catch (err) {
      return fail((err as Error).message);
    }
    const notAfterMs = opts.store.certificate!.notAfterMs;
    refreshes++;
    expiresAtMs = notAfterMs;
    backoff.reset();
    const delayMs = refreshDelayMs(notAfterMs, now(), minRefreshMs, maxRefreshMs);
    log.info('certified identity', {
      identity: opts.identity,
      expires: new Date(notAfterMs).toISOString(),
      refreshInMs: delayMs,
      refreshes,
    });
    resolveReady();
    schedule(delayMs);
  }

  void attempt();

  return {
    ready,
    isReady: () => refreshes > 0,
    expirationTimestampSeconds: () => (expiresAtMs === undefined ? undefined : expiresAtMs / 1000),
    refreshCount: () => refreshes,
    close: () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      pending?.cancel();
      client.close();
    },
  };
}
