// Runs every compiled test (dist/**/*.test.js) with Node's test runner. Tests needing root skip
// themselves when not root. FATHOM_TEST_FILTER=substring narrows the files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filter = process.env.FATHOM_TEST_FILTER ?? '';
const files = walk('dist', []).filter((f) => f.includes(filter)).sort();
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/ (did the build run?)');
  process.exit(1);
}
const args = ['--test', '--test-concurrency=2', '--test-timeout=240000', ...files];
const { status } = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(status ?? 1);
