// The mesh's certificate authority: a trust anchor (self-signed root) and an issuer signed by it, made
// on first start and kept in the state directory, or loaded from files the user gives. Proxies trust the
// anchor; the issuer signs their leaf certificates.
import { createPrivateKey, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../../lib/log.js';
import { ECDSA_SHA256, generateP256, privateKeyToPem, x509, type CryptoKey } from './x509.js';

const log = logger('identity');

/** Linkerd's CA lifetime (pkg/tls): one year for both anchor and issuer. */
export const CA_LIFETIME_MS = 365 * 24 * 3600 * 1000;

export interface CertificateAuthority {
  /** Every certificate proxies trust; the issuer chains to one of them. */
  readonly trustAnchors: readonly x509.X509Certificate[];
  readonly issuerCert: x509.X509Certificate;
  readonly issuerKey: CryptoKey;
}

/** Files of a user-supplied CA: a PEM bundle of anchors, and the issuer's certificate and key. */
export interface CaFiles {
  readonly trustAnchor: string;
  readonly issuerCert: string;
  readonly issuerKey: string;
}

/** Where a generated CA lives under the state directory. */
export function caPaths(stateDir: string) {
  const dir = join(stateDir, 'identity');
  return {
    dir,
    anchorCert: join(dir, 'trust-anchor.crt'),
    anchorKey: join(dir, 'trust-anchor.key'),
    issuerCert: join(dir, 'issuer.crt'),
    issuerKey: join(dir, 'issuer.key'),
    /** What proxies should trust, rewritten at each start whichever way the CA came. */
    trustAnchorsPem: join(stateDir, 'trust-anchors.pem'),
  };
}

const caExtensions = async (publicKey: CryptoKey, pathLength: number | undefined) => [
  new x509.BasicConstraintsExtension(true, pathLength, true),
  new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  await x509.SubjectKeyIdentifierExtension.create(publicKey),
];

/** Makes a new anchor and issuer, valid from `now` for a year; `root.fathom.<td>` and `issuer.fathom.<td>`. */
export async function generateCA(trustDomain: string, now: Date): Promise<CertificateAuthority & { anchorKey: CryptoKey }> {
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + CA_LIFETIME_MS);
  const rootKeys = await generateP256();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=root.fathom.${trustDomain}`,
    notBefore,
    notAfter,
    keys: rootKeys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: await caExtensions(rootKeys.publicKey, undefined),
  });
  const issuerKeys = await generateP256();
  const issuer = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: `CN=issuer.fathom.${trustDomain}`,
    issuer: root.subject,
    notBefore,
    notAfter,
    publicKey: issuerKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      ...(await caExtensions(issuerKeys.publicKey, 0)),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  return { trustAnchors: [root], issuerCert: issuer, issuerKey: issuerKeys.privateKey, anchorKey: rootKeys.privateKey };
}

/** Reads every certificate of a PEM file. */
export function readCertificates(path: string): x509.X509Certificate[] {
  const text = readFileSync(path, 'utf8');
  const certs = x509.PemConverter.decode(text).map((der) => new x509.X509Certificate(der));
  if (certs.length === 0) throw new Error(`${path} holds no PEM certificate`);
  return certs;
}

/** Reads an ECDSA private key in PKCS#8 or SEC1 ("EC PRIVATE KEY") PEM as a signing key. */
export async function readPrivateKey(path: string): Promise<CryptoKey> {
  const key = createPrivateKey(readFileSync(path));
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
  if (key.asymmetricKeyType !== 'ec' || !namedCurve) {
    throw new Error(`${path}: the issuer key must be ECDSA on P-256 or P-384 (found ${key.asymmetricKeyType} ${curve ?? ''})`.trim());
  }
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
}

/**
 * Checks that the issuer can sign for the mesh as of `now`: a CA, valid now, signed by one of the anchors,
 * and holding the key that matches its certificate. Throws an error that names what is wrong.
 */
export async function validateCA(ca: CertificateAuthority, now: Date): Promise<void> {
  const issuer = ca.issuerCert;
  const bc = issuer.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new Error(`issuer "${issuer.subject}" is not a CA certificate (basicConstraints CA:TRUE missing)`);
  if (issuer.notBefore > now || issuer.notAfter <= now) {
    throw new Error(`issuer "${issuer.subject}" is not valid now (valid ${issuer.notBefore.toISOString()} to ${issuer.notAfter.toISOString()})`);
  }
  let signed = false;
  for (const anchor of ca.trustAnchors) {
    if (anchor.subject === issuer.issuer && (await issuer.verify({ publicKey: anchor.publicKey, signatureOnly: true }))) signed = true;
  }
  if (!signed) throw new Error(`issuer "${issuer.subject}" is not signed by any trust anchor (its issuer is "${issuer.issuer}")`);
  const probe = new TextEncoder().encode('fathom issuer key check');
  const signature = await webcrypto.subtle.sign(ECDSA_SHA256, ca.issuerKey, probe);
  const publicKey = await issuer.publicKey.export();
  if (!(await webcrypto.subtle.verify(ECDSA_SHA256, publicKey, signature, probe))) {
    throw new Error(`the issuer key does not belong to the issuer certificate "${issuer.subject}"`);
  }
}

/** Writes `text` atomically with `mode` (0600 for keys). */
function writeFile(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

export function anchorsPem(ca: CertificateAuthority): string {
  return ca.trustAnchors.map((c) => c.toString('pem')).join('\n') + '\n';
}

/**
 * The CA to run with: the user's files when given, else the one kept in `stateDir`, else a new one saved
 * there. In every case `<stateDir>/trust-anchors.pem` is (re)written for the platform to hand to proxies.
 */
export async function loadOrCreateCA(opts: { stateDir: string; trustDomain: string; files?: CaFiles; now?: Date }): Promise<CertificateAuthority> {
  const now = opts.now ?? new Date();
  const paths = caPaths(opts.stateDir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  let ca: CertificateAuthority;
  if (opts.files) {
    ca = {
      trustAnchors: readCertificates(opts.files.trustAnchor),
      issuerCert: readCertificates(opts.files.issuerCert)[0]!,
      issuerKey: await readPrivateKey(opts.files.issuerKey),
    };
    log.info('loaded the CA from the given files', { issuer: opts.files.issuerCert });
  } else if (existsSync(paths.issuerCert)) {
    ca = {
      trustAnchors: readCertificates(paths.anchorCert),
      issuerCert: readCertificates(paths.issuerCert)[0]!,
      issuerKey: await readPrivateKey(paths.issuerKey),
    };
    log.info('loaded the CA from the state directory', { dir: paths.dir });
  } else {
    const made = await generateCA(opts.trustDomain, now);
    writeFile(paths.anchorKey, await privateKeyToPem(made.anchorKey), 0o600);
    writeFile(paths.issuerKey, await privateKeyToPem(made.issuerKey), 0o600);
    writeFile(paths.anchorCert, anchorsPem(made), 0o644);
    writeFile(paths.issuerCert, made.issuerCert.toString('pem') + '\n', 0o644);
    ca = made;
    log.info('generated a new CA', { dir: paths.dir, anchor: made.trustAnchors[0]!.subject, validUntil: made.issuerCert.notAfter.toISOString() });
  }
  await validateCA(ca, now);
  writeFile(paths.trustAnchorsPem, anchorsPem(ca), 0o644);
  return ca;
}
