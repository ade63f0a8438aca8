// Test support only (never imported by the proxy): a throwaway CA shaped like Fathom's (trust anchor →
// issuer → leaf), built with @peculiar/x509, which also checks independently that our CSRs parse and verify.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import { webcrypto, type KeyObject } from 'node:crypto';
import { buildCsr, generateIdentityKey, privateKeyPem } from './identity.js';

/** Re-exported so tests get the library only after its polyfill (ESM evaluates imports in order). */
export { x509 };

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

export interface IssueOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** DNS SANs to write instead of the CSR's (to make certificates for the wrong name). */
  dnsNames?: string[];
}

export interface Issued {
  certChainPem: string;
  keyPem: string;
  key: KeyObject;
  leaf: x509.X509Certificate;
}

export class TestCa {
  private serial = 0x10; // leaves below are the CA's own serials

  private constructor(
    readonly name: string,
    private readonly anchor: x509.X509Certificate,
    private readonly issuer: x509.X509Certificate,
    private readonly issuerKey: webcrypto.CryptoKey,
  ) {}

  /** A new root and issuer, e.g. `TestCa.create('identity.fathom.cluster.local')`. */
  static async create(name = 'identity.fathom.cluster.local'): Promise<TestCa> {
    const now = Date.now();
    const rootKeys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const anchor = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: `CN=root.${name}`,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
      keys: rootKeys,
      signingAlgorithm: SIGNING,
      extensions: caExtensions(),
    });
    const issuerKeys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const issuer = await x509.X509CertificateGenerator.create({
      serialNumber: '02',
      subject: `CN=${name}`,
      issuer: anchor.subject,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
      publicKey: issuerKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: SIGNING,
      extensions: caExtensions(),
    });
    return new TestCa(name, anchor, issuer, issuerKeys.privateKey);
  }

  get trustAnchorPem(): string {
    return this.anchor.toString('pem') + '\n';
  }

  /** Parses and verifies a DER CSR the way an identity service would; throws when it is not valid. */
  static async parseCsr(der: Uint8Array): Promise<x509.Pkcs10CertificateRequest> {
    const csr = new x509.Pkcs10CertificateRequest(Buffer.from(der));
    if (!(await csr.verify())) throw new Error('CSR signature does not verify');
    return csr;
  }

  /** Issues a leaf for `identity` the way the identity service will: key + our CSR → certificate. */
  async issue(identity: string, options: IssueOptions = {}): Promise<Issued> {
    const key = generateIdentityKey();
    const csr = await TestCa.parseCsr(buildCsr(identity, key));
    const now = Date.now();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: (++this.serial).toString(16).padStart(2, '0'),
      subject: csr.subject,
      issuer: this.issuer.subject,
      notBefore: options.notBefore ?? new Date(now - 20_000),
      notAfter: options.notAfter ?? new Date(now + DAY),
      publicKey: csr.publicKey,
      signingKey: this.issuerKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension((options.dnsNames ?? [identity]).map((value) => ({ type: 'dns' as const, value }))),
      ],
    });
    return {
      certChainPem: `${leaf.toString('pem')}\n${this.issuer.toString('pem')}\n`,
      keyPem: privateKeyPem(key),
      key,
      leaf,
    };
  }
}

function caExtensions(): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}
