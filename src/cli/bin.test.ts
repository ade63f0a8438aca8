// bin/fathom as a real process: output streams, exit codes, stdin, and a pipe closed early.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { goldenDir } from './golden.js';
import { packageRoot } from './package-info.js';

const BIN = join(packageRoot(), 'bin', 'fathom');
const scratch = mkdtempSync(join(tmpdir(), 'fathom-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function fathom(args: string[], stdin = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: goldenDir('inject'), env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test('fathom inject FILE prints the injected YAML on stdout and the report on stderr', async () => {
  const dir = goldenDir('inject');
  const result = await fathom(['inject', 'app.input.yaml']);
  assert.deepEqual(result, {
    code: 0,
    stdout: readFileSync(join(dir, 'app.golden.yaml'), 'utf8'),
    stderr: readFileSync(join(dir, 'app.report.txt'), 'utf8'),
  });
});

test('fathom uninject - reads stdin, and undoes inject', async () => {
  const dir = goldenDir('inject');
  const result = await fathom(['uninject', '-'], readFileSync(join(dir, 'app.golden.yaml'), 'utf8'));
  assert.equal(result.code, 0);
  assert.equal(result.stdout, readFileSync(join(dir, 'app.input.yaml'), 'utf8'));
  assert.equal(result.stderr, 'deployment "web" uninjected\n1 workload uninjected\n');
});

test('invalid YAML: one line naming the file and line, exit 1, nothing on stdout', async () => {
  const file = join(scratch, 'broken.yaml');
  writeFileSync(file, 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n    namespace: nodevoto\n');
  const result = await fathom(['inject', file]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, new RegExp(`^fathom inject: invalid YAML in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at line 4, column \\d+: .+\n$`));
});

test('a reader that stops early (fathom inject | head) ends fathom quietly, not with an EPIPE stack', async () => {
  const file = join(scratch, 'many.yaml');
  const doc = (i: number) => `---\nkind: Deployment\nmetadata:\n  name: web-${i}\nspec:\n  template:\n    spec:\n      containers: []\n`;
  writeFileSync(file, Array.from({ length: 5000 }, (_, i) => doc(i)).join(''));
  const child = spawn(process.execPath, [BIN, 'inject', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
});

test('an unknown command exits 2 with one line on stderr', async () => {
  const result = await fathom(['frobnicate']);
  assert.deepEqual(result, { code: 2, stdout: '', stderr: "fathom: unknown command 'frobnicate'; see 'fathom --help'\n" });
});
