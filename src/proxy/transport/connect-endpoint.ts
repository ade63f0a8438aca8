// Opens a connection to an endpoint: plain TCP, or TCP then mutual TLS to its proxy (TLS 1.3, SNI = its
// identity, our certificate, its certificate checked for exactly that identity, the ALPN we asked for
// negotiated). The connect timeout covers each step (the handshake gets at least 3 s). Failures carry the
// codes the error mapping knows: ECONNREFUSED, ECONNECTTIMEOUT, ... for TCP; ETLSHANDSHAKE for anything
// in the handshake; EIDENTITYNOTREADY when we hold no certificate yet.
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';
import { FathomError } from '../../lib/errors.js';
import { outboundClientOptions } from '../tls/context.js';
import type { IdentityStore } from '../tls/store.js';
import type { EndpointTls } from '../target/endpoint.js';
import { afterPendingIo, connectWithTimeout } from './connect.js';

/**
 * The handshake gets at least this long (the connect timeout when longer). A handshake costs the peer CPU
 * (ECDHE and two signatures): a burst of new connections to a busy peer (50 from redis-benchmark at once)
 * queues them, and failing them would turn a slow peer into a broken one. A peer that never answers is
 * still given up on.
 */
export const MIN_HANDSHAKE_TIMEOUT_MS = 3_000;

export interface EndpointConnectOptions {
  readonly timeoutMs: number;
  /** Our identity; required for mTLS endpoints (undefined in standalone mode, where none exist). */
  readonly store: IdentityStore | undefined;
}

/**
 * Connects to `addr`; with `tls`, originates mTLS offering `alpn` (none for raw TCP) and, when `alpn` is
 * set, requires the peer to have chosen it. `done` gets the socket to use (the TLSSocket for mTLS).
 */
export function connectEndpoint(
  addr: SocketAddr,
  tls: EndpointTls | undefined,
  alpn: string | undefined,
  opts: EndpointConnectOptions,
  done: (err: FathomError | undefined, socket?: Socket) => void,
): void {
  if (tls && !opts.store?.ready) {
    // Selectors wait for the certificate before choosing an mTLS endpoint; this is the last guard.
    done(new FathomError('EIDENTITYNOTREADY', `no certificate yet: cannot open mTLS to ${tls.identity}`));
    return;
  }
  connectWithTimeout(addr, opts.timeoutMs, (err, socket) => {
    if (err || !socket) {
      done(err ?? new FathomError('ECONNREFUSED', `cannot connect to ${formatSocketAddr(addr.host, addr.port)}`));
      return;
    }
    if (!tls) {
      done(undefined, socket);
      return;
    }
    originateMtls(socket, addr, tls, alpn, opts, done);
  });
}

function originateMtls(
  socket: Socket,
  addr: SocketAddr,
  tls: EndpointTls,
  alpn: string | undefined,
  opts: EndpointConnectOptions,
  done: (err: FathomError | undefined, socket?: Socket) => void,
): void {
  const where = `${formatSocketAddr(addr.host, addr.port)} (${tls.identity})`;
  let secure: TLSSocket;
  try {
    const options = outboundClientOptions(opts.store!, tls.identity, alpn === undefined ? [] : [alpn]);
    // An empty ALPN list would put an empty (invalid) extension in the ClientHello: offer none at all.
    if (alpn === undefined) delete options.ALPNProtocols;
    secure = tlsConnect({ ...options, socket });
  } catch (err) {
    socket.destroy();
    done(new FathomError('ETLSHANDSHAKE', `mTLS to ${where}: ${(err as Error).message}`, { cause: err }));
    return;
  }
  let settled = false;
  const settle = (err?: FathomError) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    secure.removeListener('error', onError);
    if (err) {
      secure.destroy();
      done(err);
    } else done(undefined, secure);
  };
  const onError = (err: Error) => settle(new FathomError('ETLSHANDSHAKE', `mTLS to ${where}: ${err.message}`, { cause: err }));
  const handshakeMs = Math.max(opts.timeoutMs, MIN_HANDSHAKE_TIMEOUT_MS);
  const timer = setTimeout(() => afterPendingIo(() => settle(new FathomError('ETLSHANDSHAKE', `mTLS to ${where}: no handshake within ${handshakeMs}ms`))), handshakeMs);
  secure.on('error', onError);
  secure.once('close', () => settle(new FathomError('ETLSHANDSHAKE', `mTLS to ${where}: closed during the handshake`)));
  secure.once('secureConnect', () => {
    if (alpn !== undefined && secure.alpnProtocol !== alpn) {
      settle(new FathomError('ETLSHANDSHAKE', `mTLS to ${where}: the peer did not accept ALPN ${alpn}`));
      return;
    }
    settle();
  });
}
