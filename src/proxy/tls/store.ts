// Holds the proxy's current certificate as a TLS context and swaps it at renewal, so new connections
// present the new certificate while established ones keep the context they were opened with.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { FathomError } from '../../lib/errors.js';

export interface IdentityStoreOptions {
  /** This proxy's identity, e.g. `web.nodevoto.serviceaccount.identity.fathom.cluster.local`. */
  identity: string;
  /** The trust anchors (roots) every peer certificate must chain to, PEM. */
  trustAnchorsPem: string;
  /** Wall-clock milliseconds, for certificate validity; injectable for tests. */
  now?: () => number;
}

/** The certificate the store holds, as the renewal loop and metrics need it. */
export interface HeldCertificate {
  readonly leaf: X509Certificate;
  /** `identity_cert_expiration_timestamp_seconds` × 1000. */
  readonly notAfterMs: number;
  readonly notBeforeMs: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates in a PEM bundle, in order. */
export function splitPemCertificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => new X509Certificate(block));
}

/**
 * The one place the proxy's TLS identity lives. `current` is read when a connection starts (inbound and
 * outbound both use the same context: OpenSSL contexts serve either role); `update` validates and swaps it;
 * `onChange` tells listeners (renewal metrics, a `tls.Server` that wants `setSecureContext`).
 */
export class IdentityStore {
  readonly identity: string;
  readonly trustAnchorsPem: string;
  private readonly anchors: X509Certificate[];
  private readonly now: () => number;
  private context: SecureContext | undefined;
  private held: HeldCertificate | undefined;
  private readonly listeners = new Set<(store: IdentityStore) => void>();

  constructor(options: IdentityStoreOptions) {
    this.identity = options.identity;
    this.trustAnchorsPem = options.trustAnchorsPem;
    this.now = options.now ?? Date.now;
    try {
      this.anchors = splitPemCertificates(options.trustAnchorsPem);
    } catch (err) {
      throw new FathomError('ETRUSTANCHORS', `the trust anchors are not valid PEM certificates: ${(err as Error).message}`, { cause: err });
    }
    if (this.anchors.length === 0) throw new FathomError('ETRUSTANCHORS', 'no certificate found in the trust anchors PEM');
  }

  /** The context for new TLS connections, or undefined until the first certificate arrives. */
  get current(): SecureContext | undefined {
    return this.context;
  }

  get ready(): boolean {
    return this.context !== undefined;
  }

  get certificate(): HeldCertificate | undefined {
    return this.held;
  }

  /**
   * Installs a new certificate chain (leaf first, then intermediates, PEM) and its private key (PKCS#8 PEM
   * or KeyObject). Refuses, keeping the previous certificate, when the leaf is not for this identity, does
   * not match the key, is outside its validity window or does not chain to the trust anchors: a bad answer
   * from the controller must not take down a working proxy. Throws FathomError EIDENTITYCERT.
   */
  update(certChainPem: string, key: string | KeyObject): void {
    const fail = (why: string, cause?: unknown): never => {
      throw new FathomError('EIDENTITYCERT', `refusing the certificate for ${this.identity}: ${why}`, { cause });
    };
    let chain: X509Certificate[] = [];
    let privateKey: KeyObject | undefined;
    try {
      chain = splitPemCertificates(certChainPem);
      privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
    } catch (err) {
      fail(`cannot parse it: ${(err as Error).message}`, err);
    }
    const leaf = chain[0] ?? fail('no certificate in the chain');
    if (!leaf.checkPrivateKey(privateKey!)) fail('it does not match the private key');
    if (leaf.checkHost(this.identity, { subject: 'never', wildcards: false }) === undefined) {
      fail(`its DNS names are "${leaf.subjectAltName ?? 'none'}"`);
    }
    const notBeforeMs = Date.parse(leaf.validFrom);
    const notAfterMs = Date.parse(leaf.validTo);
    const now = this.now();
    if (!(notBeforeMs <= now && now < notAfterMs)) fail(`it is valid from ${leaf.validFrom} to ${leaf.validTo}`);
    const chainError = chainsToAnchor(leaf, chain.slice(1), this.anchors);
    if (chainError) fail(chainError);
    let context: SecureContext;
    try {
      // TLS 1.3 only: every peer is a Fathom proxy, so there is no older client to accommodate.
      context = createSecureContext({
        cert: certChainPem,
        key: typeof key === 'string' ? key : key.export({ type: 'pkcs8', format: 'pem' }),
        ca: this.trustAnchorsPem,
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
      });
    } catch (err) {
      fail((err as Error).message, err);
    }
    this.context = context!;
    this.held = { leaf, notAfterMs, notBeforeMs };
    for (const listener of this.listeners) listener(this);
  }

  /**
   * Calls `done(true)` once a certificate is held (synchronously when it already is), or `done(false)` after
   * `timeoutMs`: a connection that needs mTLS before the first certificate waits this long (failfast).
   */
  whenReady(timeoutMs: number, done: (ready: boolean) => void): void {
    if (this.context) {
      done(true);
      return;
    }
    const timer = setTimeout(() => {
      unsubscribe();
      done(false);
    }, timeoutMs);
    const unsubscribe = this.onChange(() => {
      clearTimeout(timer);
      unsubscribe();
      done(true);
    });
  }

  /** Calls `listener` after each successful update; returns a function that unsubscribes. */
  onChange(listener: (store: IdentityStore) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** An error message when `leaf` does not chain through `intermediates` to one of `anchors`, else undefined. */
function chainsToAnchor(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[]): string | undefined {
  const signedBy = (cert: X509Certificate, issuer: X509Certificate) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  let cert = leaf;
  // Real chains are leaf → issuer → root; the bound only stops a loop among bad intermediates.
  for (let depth = 0; depth < 8; depth++) {
    if (anchors.some((anchor) => signedBy(cert, anchor))) return undefined;
    const next = intermediates.find((candidate) => candidate !== cert && signedBy(cert, candidate));
    if (!next) return `"${cert.subject.trim()}" is not issued by the trust anchors or an intermediate in the chain`;
    cert = next;
  }
  return 'the chain is too long';
}
