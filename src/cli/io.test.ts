// Command IO: reading FILE or stdin with errors that name the file, and when colour is allowed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FathomError } from '../lib/errors.js';
import { memoryIO, readInput, useColour } from './io.js';

test('readInput reads a file relative to cwd, or stdin for -', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-io-'));
  try {
    writeFileSync(join(dir, 'app.yaml'), 'kind: Pod\n');
    const { io } = memoryIO('from stdin', { cwd: dir });
    assert.deepEqual(await readInput('app.yaml', io), { text: 'kind: Pod\n', name: 'app.yaml' });
    assert.deepEqual(await readInput('-', io), { text: 'from stdin', name: 'stdin' });
    for (const [file, reason] of [['missing.yaml', 'no such file'], ['.', 'is a directory']]) {
      await assert.rejects(readInput(file!, io), (err: unknown) => err instanceof FathomError && err.code === 'EINPUT' && err.message === `cannot read ${file}: ${reason}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('colour only on a terminal, and never with NO_COLOR or TERM=dumb', () => {
  assert.equal(useColour(memoryIO('', { isTTY: false }).io), false);
  assert.equal(useColour(memoryIO('', { isTTY: true }).io), true);
  assert.equal(useColour(memoryIO('', { isTTY: true, env: { NO_COLOR: '1' } }).io), false);
  assert.equal(useColour(memoryIO('', { isTTY: true, env: { TERM: 'dumb' } }).io), false);
});
