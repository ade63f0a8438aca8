// Whether this process may create and enter network namespaces: the effective Linux capabilities it
// needs (CAP_NET_ADMIN for links and iptables, CAP_SYS_ADMIN for setns and mounts), read from /proc.
import { readFileSync } from 'node:fs';

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** The effective capability set (0 when /proc lists none), or undefined when /proc cannot be read. */
export function effectiveCapabilities(): bigint | undefined {
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return BigInt('0x' + (capEff ?? '0'));
  } catch {
    return undefined;
  }
}

/** The set holds both CAP_NET_ADMIN and CAP_SYS_ADMIN. */
export function hasNetnsCapabilities(caps: bigint): boolean {
  return ((caps >> CAP_NET_ADMIN) & 1n) === 1n && ((caps >> CAP_SYS_ADMIN) & 1n) === 1n;
}

/** uid 0 with both capabilities effective (a root in a locked-down container may lack them). */
export function canManageNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  const caps = effectiveCapabilities();
  return caps !== undefined && hasNetnsCapabilities(caps);
}
