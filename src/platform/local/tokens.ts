// Service-account tokens: one random secret per service account, kept 0600 in the state directory, a
// copy readable only by the proxy's uid in each meshed pod's files, and reviewed by the controller's
// platform by comparing in constant time.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROXY_UID } from '../../lib/mesh-names.js';
import { listDir, writeFileAtomic } from './files.js';
import { layout, podFilesDir, splitKey, tokenPath } from './layout.js';

export interface TokenOwner {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Creates the tokens of `wanted` that are missing and removes the others. */
export function syncTokens(stateDir: string, wanted: readonly TokenOwner[]): void {
  const dir = layout(stateDir).tokens;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keep = new Set<string>();
  for (const sa of wanted) {
    const path = tokenPath(stateDir, sa.namespace, sa.serviceAccount);
    keep.add(path);
    try {
      readFileSync(path);
    } catch {
      writeFileAtomic(path, randomBytes(32).toString('base64url') + '\n', 0o600);
    }
  }
  for (const file of listDir(dir)) if (!keep.has(join(dir, file))) rmSync(join(dir, file), { force: true });
}

/** Copies the service account's token into the pod's files for its proxy (uid 2102, 0400); returns the path. */
export function podTokenFile(stateDir: string, namespace: string, pod: string, serviceAccount: string): string {
  const dir = join(podFilesDir(stateDir, namespace, pod), 'identity');
  mkdirSync(dir, { recursive: true, mode: 0o500 });
  const path = join(dir, 'token');
  writeFileAtomic(path, readFileSync(tokenPath(stateDir, namespace, serviceAccount), 'utf8'), 0o400);
  chownSync(path, PROXY_UID, PROXY_UID);
  chownSync(dir, PROXY_UID, PROXY_UID);
  chmodSync(dir, 0o500);
  return path;
}

/** Every token and whom it belongs to. */
export function readTokens(stateDir: string): Map<string, TokenOwner> {
  const dir = layout(stateDir).tokens;
  const out = new Map<string, TokenOwner>();
  for (const file of listDir(dir)) {
    if (!file.endsWith('.token')) continue;
    try {
      const { namespace, name } = splitKey(file.slice(0, -'.token'.length));
      out.set(readFileSync(join(dir, file), 'utf8').trim(), { namespace, serviceAccount: name });
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** The owner of `token`, comparing against every known token in constant time. */
export function lookupToken(tokens: ReadonlyMap<string, TokenOwner>, token: string): TokenOwner | undefined {
  const given = Buffer.from(token.trim());
  let found: TokenOwner | undefined;
  for (const [known, owner] of tokens) {
    const k = Buffer.from(known);
    if (k.length === given.length && timingSafeEqual(k, given)) found = owner;
  }
  return found;
}
