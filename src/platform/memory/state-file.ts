// Seeds a MemoryPlatform from a JSON state file and follows later edits of it, so that tests can change
// services and endpoints of a controller running as a separate process.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { logger } from '../../lib/log.js';
import { MemoryPlatform } from './memory-platform.js';
import type { MemoryState } from './state.js';

const log = logger('platform-memory');

/** Reads and checks the shape of a state file; throws an error naming the file and the problem. */
export function readStateFile(path: string): MemoryState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`memory state ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`memory state ${path}: expected a JSON object with services, pods, profiles and tokens`);
  }
  const state = parsed as Record<string, unknown>;
  for (const field of ['services', 'pods', 'profiles']) {
    if (state[field] !== undefined && !Array.isArray(state[field])) throw new Error(`memory state ${path}: "${field}" must be an array`);
  }
  if (state.tokens !== undefined && (typeof state.tokens !== 'object' || state.tokens === null)) {
    throw new Error(`memory state ${path}: "tokens" must be an object mapping tokens to service accounts`);
  }
  return state as MemoryState;
}

/**
 * A MemoryPlatform loaded from `path` that reloads it on change. The directory is watched rather than
 * the file, so that editors and atomic renames keep being seen. A file that fails to parse is logged and
 * ignored until the next change.
 */
export class FileMemoryPlatform extends MemoryPlatform {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly path: string;

  constructor(path: string) {
    const full = resolve(path);
    super(readStateFile(full));
    this.path = full;
  }

  override async start(): Promise<void> {
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), (_event, file) => {
      if (file !== null && file !== name) return;
      // Writers often truncate then write: wait for the burst to settle before reading.
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), 25);
    });
  }

  override async close(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.close();
    await super.close();
  }

  private reload(): void {
    try {
      this.replace(readStateFile(this.path));
      log.debug('memory state reloaded', { path: this.path });
    } catch (err) {
      log.warn('memory state not reloaded', { path: this.path, error: err as Error });
    }
  }
}
