// What the local platform needs from the machine (Linux, root with CAP_NET_ADMIN and CAP_SYS_ADMIN),
// checked before any platform command so that a user without them gets one clear line.
import { effectiveCapabilities, hasNetnsCapabilities } from '../../lib/capabilities.js';
import { FathomError } from '../../lib/errors.js';

/** Why this process cannot run the local platform, or undefined when it can. */
export function missingRequirement(): string | undefined {
  if (process.platform !== 'linux') return `the local platform needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the local platform needs root (CAP_NET_ADMIN); run it with sudo';
  const caps = effectiveCapabilities();
  if (caps === undefined) return 'the local platform cannot read its capabilities from /proc/self/status';
  if (!hasNetnsCapabilities(caps)) return 'the local platform needs CAP_NET_ADMIN and CAP_SYS_ADMIN, which this root lacks (a restricted container?)';
  return undefined;
}

export function assertRequirements(): void {
  const missing = missingRequirement();
  if (missing) throw new FathomError('ENOPLATFORM', missing);
}
