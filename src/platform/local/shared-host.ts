// Host objects that several local-platform instances share: the iptables tables (nat, filter) and the
// /etc/netns directory. With the nftables flavour of iptables a table exists once something uses it
// and stays, empty, after its last rule goes; /etc/netns likewise. So whichever instance creates one
// notes it in a host-wide registry on /run (gone at reboot), and whichever instance leaves it empty
// removes it, under the host lock; what existed before Fathom is never noted, so never removed.
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { readJson, writeFileAtomic } from './files.js';
import { mustRun, run } from './exec.js';
import { HOST_LOCK, withLock } from './lock.js';

export type Table = 'nat' | 'filter';
export type SharedObject = { readonly kind: 'table'; readonly table: Table } | { readonly kind: 'dir'; readonly path: string };

const REGISTRY = '/run/fathom/created.json';
const BUILTIN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

const key = (o: SharedObject) => (o.kind === 'table' ? `table:${o.table}` : `dir:${o.path}`);

function registry(): string[] {
  return readJson<string[]>(REGISTRY) ?? [];
}

/** An empty registry is no file at all: nothing is left on /run once every shared object is gone. */
function saveRegistry(keys: readonly string[]): void {
  if (keys.length === 0) {
    rmSync(REGISTRY, { force: true });
    try {
      rmdirSync(dirname(REGISTRY));
    } catch {
      // not empty, or already gone
    }
    return;
  }
  mkdirSync(dirname(REGISTRY), { recursive: true, mode: 0o755 });
  writeFileAtomic(REGISTRY, JSON.stringify([...new Set(keys)]) + '\n');
}

async function iptablesIsNft(): Promise<boolean> {
  const v = await run('iptables', ['-V']);
  return v.code === 0 && v.stdout.includes('nf_tables');
}

async function exists(o: SharedObject): Promise<boolean> {
  if (o.kind === 'dir') return existsSync(o.path);
  return (await run('nft', ['list', 'table', 'ip', o.table])).code === 0;
}

async function isEmpty(o: SharedObject): Promise<boolean> {
  if (o.kind === 'dir') return readdirSync(o.path).length === 0;
  const saved = await mustRun('iptables-save', ['-t', o.table]);
  return !saved.stdout.split('\n').some((l) => l.startsWith('-A ') || (l.startsWith(':') && !BUILTIN.has(l.slice(1).split(' ')[0]!)));
}

/**
 * Runs `create` (which brings the objects into existence if needed) under the host lock, noting first
 * which of them do not exist yet. Tables are noted only with iptables-nft (legacy tables cannot go).
 */
export async function createShared<T>(objects: readonly SharedObject[], create: () => Promise<T>): Promise<T> {
  return withLock(HOST_LOCK, async () => {
    const nft = await iptablesIsNft();
    const fresh: string[] = [];
    for (const o of objects) if ((o.kind === 'dir' || nft) && !(await exists(o))) fresh.push(key(o));
    if (fresh.length > 0) saveRegistry([...registry(), ...fresh]);
    return create();
  });
}

/** Removes an object a fathom instance created, once it is empty. */
export async function releaseShared(o: SharedObject): Promise<void> {
  await withLock(HOST_LOCK, async () => {
    if (!registry().includes(key(o))) return;
    if (await exists(o)) {
      if (!(await isEmpty(o))) return;
      if (o.kind === 'dir') rmdirSync(o.path);
      else await mustRun('nft', ['delete', 'table', 'ip', o.table]);
    }
    saveRegistry(registry().filter((k) => k !== key(o)));
  });
}
