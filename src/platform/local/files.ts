// Small file helpers the state directory relies on: atomic replacement (readers never see half a file),
// in-place rewrites (for files bind-mounted into pods), and tolerant JSON reads.
import { closeSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, writeSync, ftruncateSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, basename, join } from 'node:path';
import { errorCode } from '../../lib/errors.js';

/** Writes `path` through a temporary file and a rename, so readers see the old or the new content. */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Rewrites `path` keeping its inode: `ip netns exec` bind-mounts a pod's hosts file over /etc/hosts, and
 * a bind mount follows the inode, so a rename would leave running pods with the old content.
 * Returns false when the content was already the same.
 */
export function writeInPlace(path: string, content: string, mode = 0o644): boolean {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
  if (current === content) return false;
  const fd = openSync(path, current === undefined ? 'w' : 'r+', mode);
  try {
    const bytes = Buffer.from(content);
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Parsed JSON, or undefined when the file is missing or (being replaced, corrupt) does not parse. */
export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The names in a directory, or none when it does not exist. Temporary files are skipped. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith('.'));
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return [];
    throw err;
  }
}
