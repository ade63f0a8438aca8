// The record of every change `fathom up` makes to the host outside the pods (links, iptables chains and
// tables, sysctls, directories), written before each change, so that `fathom down` undoes exactly those,
// in reverse order, even after a crash half-way.
import { FathomError } from '../../lib/errors.js';
import { readJson, writeFileAtomic } from './files.js';
import { mustRun, run } from './exec.js';
import { releaseShared, type Table } from './shared-host.js';

export type { Table };

export type HostChange =
  /** A network link of ours (deleting it also removes its addresses and routes). */
  | { readonly kind: 'link'; readonly name: string }
  /** An iptables chain of ours; every rule jumping to it is removed with it. */
  | { readonly kind: 'chain'; readonly table: Table; readonly chain: string }
  /** An iptables table this instance used: removed once empty, if an instance created it (shared-host.ts). */
  | { readonly kind: 'table'; readonly table: Table }
  | { readonly kind: 'sysctl'; readonly key: string; readonly previous: string }
  /** A shared directory this instance used (/etc/netns): removed once empty, if an instance created it. */
  | { readonly kind: 'dir'; readonly path: string };

export class Journal {
  private changes: HostChange[];

  constructor(private readonly path: string) {
    this.changes = readJson<HostChange[]>(path) ?? [];
  }

  has(change: HostChange): boolean {
    const key = JSON.stringify(change);
    return this.changes.some((c) => JSON.stringify(c) === key);
  }

  /** Records `change` (once) before the caller makes it. */
  record(change: HostChange): void {
    if (this.has(change)) return;
    this.changes.push(change);
    writeFileAtomic(this.path, JSON.stringify(this.changes, null, 2) + '\n', 0o644);
  }

  /** Undoes every recorded change, last first. Collects failures and reports them all at the end. */
  async undoAll(): Promise<void> {
    const failures: string[] = [];
    for (const change of [...this.changes].reverse()) {
      try {
        await undo(change);
      } catch (err) {
        failures.push((err as Error).message);
        continue;
      }
      this.changes = this.changes.filter((c) => c !== change);
      writeFileAtomic(this.path, JSON.stringify(this.changes, null, 2) + '\n', 0o644);
    }
    if (failures.length > 0) throw new FathomError('EHOST', `could not undo every host change: ${failures.join('; ')}`);
  }
}

async function undo(change: HostChange): Promise<void> {
  switch (change.kind) {
    case 'link': {
      const exists = await run('ip', ['link', 'show', 'dev', change.name]);
      if (exists.code === 0) await mustRun('ip', ['link', 'delete', 'dev', change.name]);
      return;
    }
    case 'chain':
      return removeChain(change.table, change.chain);
    case 'table':
      return releaseShared(change);
    case 'sysctl':
      await mustRun('sysctl', ['-qw', `${change.key}=${change.previous}`]);
      return;
    case 'dir':
      return releaseShared(change);
  }
}

/** Deletes every rule that jumps to `chain`, then the chain itself, in one transaction. */
export async function removeChain(table: Table, chain: string): Promise<void> {
  const saved = await mustRun('iptables-save', ['-t', table]);
  if (!saved.stdout.split('\n').some((line) => line.startsWith(`:${chain} `))) return;
  const jumps = saved.stdout
    .split('\n')
    .filter((line) => line.startsWith('-A ') && new RegExp(`\\s-[jg] ${chain}(\\s|$)`).test(line))
    .map((line) => line.replace(/^-A /, '-D '));
  const input = [`*${table}`, ...jumps, `-F ${chain}`, `-X ${chain}`, 'COMMIT', ''].join('\n');
  await mustRun('iptables-restore', ['--noflush', '-w'], { input });
}
