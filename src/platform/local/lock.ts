// A cross-process lock made of a directory (mkdir is atomic), holding the owner's pid so that a lock
// left by a dead process is broken rather than waited on.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FathomError, errorCode } from '../../lib/errors.js';

/** Host-wide: serialises changes of shared iptables tables between local-platform instances. */
export const HOST_LOCK = '/run/fathom-host.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/** Runs `fn` holding the lock at `path`; gives up after `timeoutMs` with an error naming the holder. */
export async function withLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(path, 'pid'), 'utf8'));
      } catch {
        // being created or removed right now
      }
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new FathomError('ELOCKED', `${path} is held by process ${holder}; try again`);
      await sleep(30);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}
