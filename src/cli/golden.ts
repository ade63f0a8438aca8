// Golden-file checks for CLI output tests, as linkerd2 does for inject and install: compare output with
// a file in the source tree, or rewrite the file instead when FATHOM_UPDATE_GOLDEN=1.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from './package-info.js';

/** Regenerating is a deliberate act: the diff of the golden files is what a reviewer reads. */
export const UPDATE_GOLDEN = process.env['FATHOM_UPDATE_GOLDEN'] === '1';

/** A directory of golden files under test/golden/, in the source tree (never dist/). */
export function goldenDir(name: string): string {
  return join(packageRoot(), 'test', 'golden', name);
}

export function assertGolden(path: string, actual: string): void {
  if (UPDATE_GOLDEN) {
    writeFileSync(path, actual);
    return;
  }
  const shown = relative(packageRoot(), path);
  assert.ok(existsSync(path), `${shown} is missing; run the tests with FATHOM_UPDATE_GOLDEN=1 to create it`);
  assert.equal(actual, readFileSync(path, 'utf8'), `output differs from ${shown} (FATHOM_UPDATE_GOLDEN=1 rewrites it)`);
}
