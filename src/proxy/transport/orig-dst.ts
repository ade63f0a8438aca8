// The original destination of a connection that iptables REDIRECTed to the proxy, read with
// SO_ORIGINAL_DST through the native addon in native/ (IPv4 and IPv6).
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { FathomError } from '../../lib/errors.js';
import type { SocketAddr } from '../../lib/addr.js';

interface Addon {
  originalDst(fd: number): { address: string; port: number; family: 4 | 6 } | null;
}

let addon: Addon | undefined;

function load(): Addon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    // dist/src/proxy/transport → project root is four levels up.
    addon = require('../../../../native/build/Release/orig_dst.node') as Addon;
  } catch (err) {
    throw new FathomError('ENOADDON', 'the SO_ORIGINAL_DST addon is not built (run scripts/setup.sh)', { cause: err });
  }
  return addon;
}

/** Loads the addon now, so that a missing build fails at start-up rather than on the first connection. */
export function loadOrigDstAddon(): void {
  load();
}

/**
 * The address the client originally connected to, or undefined when the connection was not NATed
 * (no conntrack record) or the socket has no file descriptor.
 */
export function originalDst(socket: Socket): SocketAddr | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  const dst = load().originalDst(fd);
  return dst ? { host: dst.address, port: dst.port } : undefined;
}
