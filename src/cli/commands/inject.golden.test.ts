// Golden tests of inject and uninject: each test/golden/inject/<case>.input.yaml runs through the
// command's run() and must print <case>.golden.yaml on stdout and <case>.report.txt on stderr.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { assertGolden, goldenDir } from '../golden.js';
import { memoryIO } from '../io.js';
import type { ProxyConfig } from '../mesh-annotations.js';
import { run as inject } from './inject.js';
import { run as uninject } from './uninject.js';

const DIR = goldenDir('inject');

interface Case {
  readonly name: string;
  readonly command: 'inject' | 'uninject';
  readonly config?: ProxyConfig;
  /** uninject(inject(input)) gives the input back byte for byte; false says why not. */
  readonly roundTrip: true | string;
}

const CASES: readonly Case[] = [
  { name: 'app', command: 'inject', roundTrip: true },
  { name: 'already-injected', command: 'inject', roundTrip: 'uninject removes annotations that were in the input' },
  { name: 'disabled', command: 'inject', roundTrip: true },
  { name: 'host-network', command: 'inject', roundTrip: true },
  { name: 'list', command: 'inject', roundTrip: true },
  { name: 'cronjob', command: 'inject', roundTrip: true },
  { name: 'comments', command: 'inject', roundTrip: 'an edited document keeps comments but not the spaces before an inline comment' },
  {
    name: 'config-flags',
    command: 'inject',
    config: { proxyLogLevel: 'debug', opaquePorts: '3306', skipInboundPorts: '4567,4568', skipOutboundPorts: '25,9000-9010' },
    roundTrip: 'the empty annotations: {} placeholder is not restored',
  },
  { name: 'uninject', command: 'uninject', roundTrip: 'the input is already injected' },
  { name: 'no-workloads', command: 'inject', roundTrip: true },
];

async function runCase(c: Pick<Case, 'command' | 'config'>, file: string, stdin = '') {
  const out = memoryIO(stdin, { cwd: DIR });
  const code = c.command === 'inject' ? await inject({ file, config: c.config ?? {} }, out.io) : await uninject({ file }, out.io);
  return { code, stdout: out.stdout(), stderr: out.stderr() };
}

for (const c of CASES) {
  test(`${c.command} ${c.name}: stdout and report match the golden files`, async () => {
    const result = await runCase(c, `${c.name}.input.yaml`);
    assert.equal(result.code, 0, result.stderr);
    assertGolden(join(DIR, `${c.name}.golden.yaml`), result.stdout);
    assertGolden(join(DIR, `${c.name}.report.txt`), result.stderr);
  });
}

test('every input file has a case', () => {
  const inputs = readdirSync(DIR).filter((f) => f.endsWith('.input.yaml')).map((f) => f.replace('.input.yaml', ''));
  assert.deepEqual(inputs.sort(), CASES.map((c) => c.name).sort());
});

for (const c of CASES.filter((c) => c.command === 'inject')) {
  test(`inject ${c.name}: injecting the output again changes nothing`, async () => {
    const once = await runCase(c, `${c.name}.input.yaml`);
    const twice = await runCase(c, '-', once.stdout);
    assert.equal(twice.stdout, once.stdout);
    assert.doesNotMatch(twice.stderr, /" injected$/m);
  });

  if (c.roundTrip === true) {
    test(`inject ${c.name}: uninject gives the input back`, async () => {
      const injected = await runCase(c, `${c.name}.input.yaml`);
      const back = await runCase({ command: 'uninject' }, '-', injected.stdout);
      assert.equal(back.stdout, readFileSync(join(DIR, `${c.name}.input.yaml`), 'utf8'));
    });
  }
}

test('golden outputs are valid Kubernetes YAML: annotation values are strings', () => {
  for (const c of CASES) {
    const text = readFileSync(join(DIR, `${c.name}.golden.yaml`), 'utf8');
    for (const doc of parseAllDocuments(text, { version: '1.1' }) as ReturnType<typeof parseAllDocuments> & unknown[]) {
      assert.deepEqual(doc.errors, [], `${c.name}.golden.yaml`);
      JSON.stringify(doc.toJS(), (key, value: unknown) => {
        if (key === 'annotations') {
          for (const [name, v] of Object.entries(value as Record<string, unknown>)) assert.equal(typeof v, 'string', `${c.name}: ${name}`);
        }
        return value;
      });
    }
  }
});
