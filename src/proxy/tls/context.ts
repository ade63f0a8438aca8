// TLS options for mutual TLS between meshed proxies: the inbound side that terminates it, the outbound
// side that originates it, and reading the verified peer's identity for the client_id/server_id labels.
import type { PeerCertificate, TlsOptions, ConnectionOptions, TLSSocket } from 'node:tls';
import { FathomError } from '../../lib/errors.js';
import type { IdentityStore } from './store.js';

/**
 * ALPN names spoken between proxies (Linkerd's are the same with `l5d.io` in place of `fathom.io`):
 * - `h2`: HTTP/2, including HTTP/1 requests carried over HTTP/2 between proxies (model §1.5);
 * - `transport.fathom.io/v1`: opaque transport: a transport header naming the target port, then raw bytes
 *   (model §1.3);
 * - `http/1.1`: accepted inbound for clients that cannot speak HTTP/2.
 */
export const ALPN_H2 = 'h2';
export const ALPN_TRANSPORT = 'transport.fathom.io/v1';
export const ALPN_HTTP1 = 'http/1.1';
/** Inbound's list, in the server's order of preference (Node picks the first one the client also offers). */
export const INBOUND_ALPN: readonly string[] = [ALPN_H2, ALPN_TRANSPORT, ALPN_HTTP1];

/**
 * `tls.createServer` options to terminate mTLS on the inbound side (see InboundMtls, which uses them):
 * TLS 1.3 only, a client certificate required and verified against the trust anchors. The certificate comes
 * from the store when each ClientHello arrives (SNICallback), so one server keeps serving across renewals;
 * a ClientHello for another name, or none, fails (the inbound only terminates TLS whose SNI is its own
 * identity; anything else is passed through as opaque before reaching here).
 *
 * Not for `new tls.TLSSocket(socket, { isServer: true })` without a server: Node then completes the
 * handshake with an untrusted client certificate and leaves `authorized` false for the caller to check.
 */
export function inboundServerOptions(store: IdentityStore): TlsOptions {
  return {
    SNICallback: (servername, callback) => {
      const context = store.current;
      if (servername === store.identity && context) callback(null, context);
      else callback(new FathomError('ESNI', `TLS for "${servername}" reached ${store.identity}${context ? '' : ' before it has a certificate'}`), undefined);
    },
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: INBOUND_ALPN as string[],
    // The server's default context (used before the SNI callback) must refuse TLS 1.2 as well.
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
  };
}

/**
 * Options to originate mTLS to a meshed endpoint whose identity is `peerIdentity`: SNI = that identity
 * (it is how the peer's inbound recognises mesh traffic), our certificate, the trust anchors, and a
 * server-identity check against the certificate's DNS SANs only: the host we dial is a pod IP, not a name.
 * `alpn` is `[ALPN_H2]` for HTTP, `[ALPN_TRANSPORT]` for opaque TCP. Add `host`/`port` or `socket`.
 * Don't pass a TLS `session` across identities: Node skips checkServerIdentity on resumed sessions.
 * Throws FathomError ENOIDENTITY before the store holds a certificate (check `store.ready` first).
 */
export function outboundClientOptions(store: IdentityStore, peerIdentity: string, alpn: readonly string[] = [ALPN_H2]): ConnectionOptions {
  return {
    secureContext: requireContext(store),
    servername: peerIdentity,
    ALPNProtocols: alpn as string[],
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkPeerIdentity(cert.subjectaltname ?? '', peerIdentity),
  };
}

function requireContext(store: IdentityStore) {
  const context = store.current;
  if (!context) throw new FathomError('ENOIDENTITY', `no certificate yet for ${store.identity}: mTLS is not available`);
  return context;
}

/** An error unless `subjectAltName` (Node's text form) has a DNS name equal to `expected`, exactly. */
export function checkPeerIdentity(subjectAltName: string, expected: string): Error | undefined {
  if (dnsNames(subjectAltName).includes(expected)) return undefined;
  const names = subjectAltName ? `"${subjectAltName}"` : 'no DNS name';
  return new FathomError('EPEERIDENTITY', `the peer's certificate is for ${names}, expected identity ${expected}`);
}

/**
 * The verified identity of the peer on an established mTLS socket (its certificate's first DNS SAN), or
 * undefined when the peer was not verified or presented none. Used for `client_id` inbound and
 * `server_id` outbound.
 */
export function peerIdentity(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  // getPeerCertificate, not getPeerX509Certificate: on Node 20.20 the latter, called twice on a client
  // socket, returns undefined the second time and empties getPeerCertificate() too (seen in our tests).
  const san = socket.getPeerCertificate()?.subjectaltname;
  return san ? dnsNames(san)[0] : undefined;
}

/**
 * The DNS names in Node's subjectAltName text (`DNS:a, DNS:b, IP Address:10.0.0.1`). Node quotes, JSON
 * style, any name holding characters such as ',' so it cannot pose as several entries; quoted names are
 * dropped here (no identity has such characters) and never split, so `DNS:"x, DNS:victim"` yields nothing.
 */
export function dnsNames(subjectAltName: string): string[] {
  const names: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= subjectAltName.length; i++) {
    const c = subjectAltName[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === undefined || (c === ',' && subjectAltName[i + 1] === ' ')) {
      const entry = subjectAltName.slice(start, i);
      if (entry.startsWith('DNS:') && entry[4] !== '"') names.push(entry.slice(4));
      start = i + 2;
    }
  }
  return names;
}
