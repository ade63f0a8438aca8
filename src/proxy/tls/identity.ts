// A proxy's identity material: its ECDSA P-256 key and the PKCS#10 request (CN and one DNS SAN = its
// identity) that it sends to the identity service's Certify (model §3).
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { FathomError } from '../../lib/errors.js';
import { bitString, contextConstructed, contextPrimitive, integer, octetString, oid, sequence, set, utf8String } from './der.js';

const OID_COMMON_NAME = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14'; // PKCS#9 extensionRequest
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

// An identity is a DNS name (it is the SNI and the certificate's DNS SAN): lower-case labels of letters,
// digits and '-', at most 253 characters. Anything else would make a certificate no peer could verify.
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A fresh ECDSA P-256 private key (what Linkerd's proxies use), kept in memory only. */
export function generateIdentityKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/**
 * Builds a DER-encoded PKCS#10 certificate request (RFC 2986) for `identity`: subject CN = identity, an
 * extensionRequest with exactly one SubjectAltName dNSName = identity, signed ECDSA-SHA256 by `key`.
 * Throws a FathomError (code EIDENTITY) for a name that is not a DNS name or a key that is not P-256.
 */
export function buildCsr(identity: string, key: KeyObject): Buffer {
  if (!DNS_NAME.test(identity) || identity.split('.').some((l) => l.length > 63)) {
    throw new FathomError('EIDENTITY', `cannot request a certificate for "${identity}": an identity must be a lower-case DNS name`);
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new FathomError('EIDENTITY', 'the identity key must be an ECDSA P-256 private key');
  }
  // SubjectPublicKeyInfo comes out of Node already DER-encoded: it is embedded as is.
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const subject = sequence(set(sequence(oid(OID_COMMON_NAME), utf8String(identity))));
  const san = sequence(contextPrimitive(2, Buffer.from(identity, 'ascii')));
  const extensions = sequence(sequence(oid(OID_SUBJECT_ALT_NAME), octetString(san)));
  const attributes = contextConstructed(0, sequence(oid(OID_EXTENSION_REQUEST), set(extensions)));
  const info = sequence(integer(0), subject, spki, attributes);
  // Node signs EC keys with a DER ECDSA-Sig-Value by default, which is what X.509 wants.
  const signature = sign('sha256', info, key);
  return sequence(info, sequence(oid(OID_ECDSA_WITH_SHA256)), bitString(signature));
}

/** PEM-armours DER bytes, e.g. a certificate from Certify (DER) for `tls.createSecureContext` (PEM only). */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The private key as PKCS#8 PEM (the form `IdentityStore.update` and `tls` take). */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
