// What the local platform needs from the machine (Linux, root with CAP_NET_ADMIN and CAP_SYS_ADMIN),
// checked before any platform command so that a user without them gets one clear line.
import { readFileSync } from 'node:fs';
import { FathomError } from '../../lib/errors.js';

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** Why this process cannot run the local platform, or undefined when it can. */
export function missingRequirement(): string | undefined {
  if (process.platform !== 'linux') return `the local platform needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the local platform needs root (CAP_NET_ADMIN); run it with sudo';
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    const caps = BigInt('0x' + (capEff ?? '0'));
    if (((caps >> CAP_NET_ADMIN) & 1n) !== 1n || ((caps >> CAP_SYS_ADMIN) & 1n) !== 1n) {
      return 'the local platform needs CAP_NET_ADMIN and CAP_SYS_ADMIN, which this root lacks (a restricted container?)';
    }
  } catch {
    return 'the local platform cannot read its capabilities from /proc/self/status';
  }
  return undefined;
}

export function assertRequirements(): void {
  const missing = missingRequirement();
  if (missing) throw new FathomError('ENOPLATFORM', missing);
}
