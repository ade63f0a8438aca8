// Reads a proxy's certificate signing request and checks that it asks for exactly one identity: the
// request must be well-formed and self-signed (so the proxy holds the key), name that identity as its one
// DNS SAN, name nothing else, and have an empty common name or the same one.
import { x509 } from './x509.js';

const SAN_OID = '2.5.29.17';

export type CsrResult =
  | { readonly ok: true; readonly publicKey: x509.PublicKey }
  /** `malformed`: not a valid request at all; `mismatch`: valid, but not for this identity alone. */
  | { readonly ok: false; readonly problem: 'malformed' | 'mismatch'; readonly message: string };

const malformed = (message: string): CsrResult => ({ ok: false, problem: 'malformed', message });
const mismatch = (message: string): CsrResult => ({ ok: false, problem: 'mismatch', message });

export async function checkCsr(der: Uint8Array, identity: string): Promise<CsrResult> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(Buffer.from(der));
  } catch (err) {
    return malformed(`certificate_signing_request is not a DER PKCS#10 request: ${(err as Error).message}`);
  }
  try {
    if (!(await csr.verify())) return malformed('certificate_signing_request is not signed by the key it carries');
  } catch (err) {
    return malformed(`certificate_signing_request signature cannot be checked: ${(err as Error).message}`);
  }

  const sanExt = csr.extensions.find((e) => e.type === SAN_OID);
  const names = sanExt ? new x509.SubjectAlternativeNameExtension(sanExt.rawData).names.items : [];
  const others = names.filter((n) => n.type !== 'dns');
  if (others.length > 0) {
    return mismatch(
      `certificate_signing_request names ${others.map((n) => `${n.type} "${n.value}"`).join(', ')}; only one DNS name, the identity "${identity}", is allowed`,
    );
  }
  const dns = names.map((n) => n.value);
  if (dns.length !== 1) {
    const found = dns.length === 0 ? 'none' : dns.map((d) => `"${d}"`).join(', ');
    return mismatch(`certificate_signing_request must name exactly one DNS SAN, the identity "${identity}"; it names ${dns.length}: ${found}`);
  }
  if (dns[0] !== identity) {
    return mismatch(`certificate_signing_request names "${dns[0]}", not the requested identity "${identity}"`);
  }
  for (const cn of csr.subjectName.getField('CN')) {
    if (cn !== identity) return mismatch(`certificate_signing_request common name "${cn}" must be empty or the identity "${identity}"`);
  }
  return { ok: true, publicKey: csr.publicKey };
}
