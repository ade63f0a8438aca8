// The CLI skeleton through runCli (no process): help, usage errors as one line with exit 2, flag binding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commands } from './commands/index.js';
import { memoryIO } from './io.js';
import { runCli } from './main.js';
import { packageInfo } from './package-info.js';

async function cli(argv: string[], stdin = '') {
  const out = memoryIO(stdin);
  const code = await runCli(argv, out.io);
  return { code, stdout: out.stdout(), stderr: out.stderr() };
}

test('fathom --help lists every registered command with its summary', async () => {
  for (const argv of [['--help'], []]) {
    const { code, stdout } = await cli(argv);
    assert.equal(code, 0);
    for (const entry of commands) assert.match(stdout, new RegExp(`^  ${entry.name} .*${entry.summary.slice(0, 20)}`, 'm'));
  }
});

test('fathom help inject and fathom inject --help show the command usage and its flags', async () => {
  for (const argv of [['help', 'inject'], ['inject', '--help']]) {
    const { code, stdout } = await cli(argv);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: fathom inject \[options\] <file>/);
    assert.match(stdout, /--opaque-ports <ports>/);
  }
});

test('usage errors print one line naming the problem and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['injct', 'app.yaml'], /^fathom: unknown command 'injct' \(did you mean inject\?\); see 'fathom --help'\n$/],
    [['inject', '--bogus', 'app.yaml'], /^fathom inject: unknown option '--bogus'; see 'fathom inject --help'\n$/],
    [['help', 'bogus'], /^fathom: unknown command 'bogus'; see 'fathom --help'\n$/],
    [['--bogus'], /^fathom: unknown option '--bogus'; see 'fathom --help'\n$/],
    [['inject'], /^fathom inject: missing required argument 'file'; see 'fathom inject --help'\n$/],
    [['inject', 'a.yaml', 'b.yaml'], /^fathom inject: too many arguments .*\n$/],
    [['inject', '--proxy-log-level', 'loud', '-'], /^fathom inject: invalid --proxy-log-level: "loud" is not one of error, warn, info, debug, trace; see .*\n$/],
    [['inject', '--skip-inbound-ports', '70000', '-'], /^fathom inject: invalid --skip-inbound-ports: "70000" is not a port .*\n$/],
  ];
  for (const [argv, expected] of cases) {
    const { code, stdout, stderr } = await cli(argv);
    assert.equal(code, 2, argv.join(' '));
    assert.equal(stdout, '');
    assert.match(stderr, expected);
  }
});

test('fathom version and --version print the package version', async () => {
  const { version } = packageInfo();
  assert.deepEqual(await cli(['version']), { code: 0, stdout: `Client version: ${version}\n`, stderr: '' });
  assert.deepEqual(await cli(['version', '--short']), { code: 0, stdout: `${version}\n`, stderr: '' });
  assert.deepEqual(await cli(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' });
});

test('inject flags reach the command: config annotations from stdin input', async () => {
  const input = 'kind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n';
  const { code, stdout, stderr } = await cli(['inject', '--proxy-log-level', 'debug', '--opaque-ports', ' 6379,db ', '-'], input);
  assert.equal(code, 0, stderr);
  assert.equal(
    stdout,
    'kind: Pod\nmetadata:\n  name: p\n  annotations:\n    fathom.io/inject: enabled\n' +
      '    config.fathom.io/proxy-log-level: "debug"\n    config.fathom.io/opaque-ports: "6379,db"\nspec:\n  containers: []\n',
  );
  assert.equal(stderr, 'pod "p" injected\n1 workload injected\n');
});

test('a file that cannot be read fails with exit 1 and prints nothing on stdout', async () => {
  const { code, stdout, stderr } = await cli(['uninject', 'no-such-file.yaml']);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.equal(stderr, 'fathom uninject: cannot read no-such-file.yaml: no such file\n');
});

test('on a terminal a blank line separates the report from the YAML', async () => {
  const out = memoryIO('kind: Pod\nmetadata: {name: p}\n', { isTTY: true });
  assert.equal(await runCli(['inject', '-'], out.io), 0);
  assert.equal(out.stderr(), '\npod "p" injected\n1 workload injected\n');
});
