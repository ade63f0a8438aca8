// The certificate facts the identity checks need, read from the CA's files on disk at each run (so a CA
// replaced since the controller started is what gets checked): validity windows and who signed whom.
import { readCertificates } from '../identity/ca.js';
import type { x509 } from '../identity/x509.js';

export const DAY_MS = 24 * 3600 * 1000;
/** Linkerd warns when a trust anchor or issuer has less than 60 days left. */
export const MIN_REMAINING_DAYS = 60;

export function loadCertificates(path: string): x509.X509Certificate[] {
  return readCertificates(path);
}

/** Why `cert` is not valid at `now`, or undefined when it is. */
export function outsideValidity(cert: x509.X509Certificate, now: number): string | undefined {
  if (cert.notBefore.getTime() > now) return `"${cert.subject}" is not valid before ${cert.notBefore.toISOString()}`;
  if (cert.notAfter.getTime() <= now) return `"${cert.subject}" expired on ${cert.notAfter.toISOString()}`;
  return undefined;
}

/** Why `cert` expires within `days` of `now`, or undefined when it lasts longer. */
export function expiresWithin(cert: x509.X509Certificate, now: number, days: number): string | undefined {
  const left = cert.notAfter.getTime() - now;
  if (left >= days * DAY_MS) return undefined;
  return `"${cert.subject}" expires on ${cert.notAfter.toISOString()}, in ${Math.max(0, Math.floor(left / DAY_MS))} days`;
}

/** The first reason among certificates, or undefined when every certificate passes. */
export function firstProblem(certs: readonly x509.X509Certificate[], test: (c: x509.X509Certificate) => string | undefined): string | undefined {
  for (const c of certs) {
    const problem = test(c);
    if (problem) return problem;
  }
  return undefined;
}

/** Whether one of the anchors signed `issuer`. */
export async function signedByAnchor(issuer: x509.X509Certificate, anchors: readonly x509.X509Certificate[]): Promise<boolean> {
  for (const anchor of anchors) {
    if (anchor.subject === issuer.issuer && (await issuer.verify({ publicKey: anchor.publicKey, signatureOnly: true }))) return true;
  }
  return false;
}
