// Where an accepted connection was headed: its original destination, or the configured default for
// connections that were not redirected. Refuses destinations that are the proxy itself (a loop).
import type { Socket } from 'node:net';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';
import { FathomError } from '../../lib/errors.js';
import { originalDst } from './orig-dst.js';

/**
 * The original destination of `socket`. A connection that iptables did not redirect reports its own
 * local address (or none): it was made to the proxy directly, so `fallback` applies, and without one the
 * connection is refused with ENODESTINATION.
 */
export function resolveOriginalDst(socket: Socket, fallback: SocketAddr | undefined): SocketAddr {
  let dst: SocketAddr | undefined;
  try {
    dst = originalDst(socket);
  } catch (err) {
    throw new FathomError('ENODESTINATION', `cannot read the original destination: ${(err as Error).message}`, { cause: err });
  }
  const local = socket.localAddress === undefined ? undefined : { host: normalizeHost(socket.localAddress), port: socket.localPort ?? 0 };
  const direct = dst === undefined || (local !== undefined && sameAddr(dst, local));
  if (!direct) return dst!;
  if (fallback) return fallback;
  throw new FathomError('ENODESTINATION', `connection to ${local ? formatSocketAddr(local.host, local.port) : 'the proxy'} was not redirected and no default destination is configured`);
}

export function sameAddr(a: SocketAddr, b: SocketAddr): boolean {
  return a.port === b.port && normalizeHost(a.host) === normalizeHost(b.host);
}

/** IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) compare equal to their IPv4 form. */
export function normalizeHost(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

export function addrKey(a: SocketAddr): string {
  return formatSocketAddr(normalizeHost(a.host), a.port);
}
