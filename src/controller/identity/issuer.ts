// Signs short-lived leaf certificates for mesh identities with the CA's issuer: ECDSA-SHA256, one DNS SAN,
// usable as both TLS server and client, valid for the issuance lifetime with a clock-skew allowance.
import { randomBytes } from 'node:crypto';
import type { CertificateAuthority } from './ca.js';
import { ECDSA_SHA256, x509, type CryptoKey } from './x509.js';

export interface IssuerOptions {
  /** How long a leaf is valid (24 h by default, model §3). */
  readonly lifetimeMs: number;
  /** Allowance for clocks that disagree: leaves start this much early and end this much late. */
  readonly clockSkewMs: number;
  readonly now?: () => Date;
}

export interface IssuedLeaf {
  readonly leaf: x509.X509Certificate;
  /** From the leaf up to (not including) the anchor: the issuer. */
  readonly intermediates: readonly x509.X509Certificate[];
  readonly validUntil: Date;
}

/** A positive 128-bit serial: unique without keeping a counter across restarts. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, and no leading zero byte to strip
  return bytes.toString('hex');
}

export class Issuer {
  private readonly now: () => Date;

  constructor(
    readonly ca: CertificateAuthority,
    private readonly options: IssuerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Issues a leaf for `identity` (already validated) binding `publicKey` (from a verified CSR). */
  async issue(identity: string, publicKey: x509.PublicKey | CryptoKey): Promise<IssuedLeaf> {
    const now = this.now().getTime();
    const issuer = this.ca.issuerCert;
    // Never outlive the issuer (or an anchor): a leaf is no better than the chain above it.
    const chainEnd = Math.min(issuer.notAfter.getTime(), ...this.ca.trustAnchors.map((a) => a.notAfter.getTime()));
    const notAfter = new Date(Math.min(now + this.options.lifetimeMs + this.options.clockSkewMs, chainEnd));
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${identity}`,
      issuer: issuer.subject,
      notBefore: new Date(now - this.options.clockSkewMs),
      notAfter,
      publicKey,
      signingKey: this.ca.issuerKey,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: identity }]),
        await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ],
    });
    // Certificates keep whole seconds: report the time the leaf really ends.
    return { leaf, intermediates: [issuer], validUntil: leaf.notAfter };
  }
}
