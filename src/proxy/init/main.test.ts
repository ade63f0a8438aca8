import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exec, ExecResult } from './exec.js';
import { runInit } from './main.js';

const EMPTY_NAT = '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';

interface Call {
  cmd: string;
  args: readonly string[];
  input: string | undefined;
}

/** A scripted command runner: answers by `cmd args` or else by command name; records every call. */
function fakeExec(answers: Record<string, Partial<ExecResult>>): { exec: Exec; calls: Call[] } {
  const calls: Call[] = [];
  const exec: Exec = async (cmd, args, input) => {
    calls.push({ cmd, args, input });
    const answer = answers[[cmd, ...args].join(' ')] ?? answers[cmd] ?? { code: 127, stderr: `${cmd}: command not found` };
    return { code: answer.code ?? 0, stdout: answer.stdout ?? '', stderr: answer.stderr ?? '' };
  };
  return { exec, calls };
}

async function run(argv: string[], exec: Exec): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const code = await runInit(argv, io, exec);
  return { code, stdout, stderr };
}

const bothFamilies = {
  'iptables-save': { stdout: EMPTY_NAT },
  'iptables-restore': {},
  'ip6tables-save': { stdout: EMPTY_NAT },
  'ip6tables-restore': {},
};

test('--simulate prints the restore input for both families and changes nothing', async () => {
  const { exec, calls } = fakeExec(bothFamilies);
  const res = await run(['--simulate', '--skip-outbound-ports', '3306'], exec);
  assert.equal(res.code, 0);
  assert.match(res.stdout, /^# iptables: would run `iptables-restore --noflush -w` with:\n\*nat\n/);
  assert.match(res.stdout, /# ip6tables: would run `ip6tables-restore --noflush -w` with:/);
  assert.match(res.stdout, /--dports 3306 .* -j RETURN/);
  // Only the read-only probe for ip6tables ran.
  assert.deepEqual(calls.map((c) => `${c.cmd} ${c.args.join(' ')}`), ['ip6tables-save --version']);
});

test('--simulate --no-ipv6 runs no command at all; --simulate --remove prints the removal', async () => {
  const { exec, calls } = fakeExec({});
  const res = await run(['--simulate', '--no-ipv6', '--remove'], exec);
  assert.equal(res.code, 0);
  assert.deepEqual(calls, []);
  assert.doesNotMatch(res.stdout, /ip6tables/);
  assert.match(res.stdout, /^-F FATHOM_PROXY_INIT_REDIRECT$/m);
  assert.match(res.stdout, /^-X FATHOM_PROXY_INIT_OUTPUT$/m);
});

test('apply reads each table, then restores it with --noflush -w', async () => {
  const { exec, calls } = fakeExec(bothFamilies);
  const res = await run(['--ipv6'], exec);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(calls.map((c) => `${c.cmd} ${c.args.join(' ')}`), [
    'iptables-save -t nat',
    'iptables-restore --noflush -w',
    'ip6tables-save -t nat',
    'ip6tables-restore --noflush -w',
  ]);
  assert.match(calls[1]!.input!, /^-A PREROUTING .*-j FATHOM_PROXY_INIT_REDIRECT$/m);
  assert.match(res.stdout, /iptables: installed 5 rules .*jumps: 2 added/);
  assert.match(res.stdout, /outbound TCP -> :4140, except uid 2102, loopback/);
});

test('without ip6tables, the default applies IPv4 only; --ipv6 then fails naming the command', async () => {
  const v4Only = { 'iptables-save': { stdout: EMPTY_NAT }, 'iptables-restore': {} };
  const auto = await run([], fakeExec(v4Only).exec);
  assert.equal(auto.code, 0, auto.stderr);
  assert.doesNotMatch(auto.stdout, /ip6tables/);

  const forced = await run(['--ipv6'], fakeExec(v4Only).exec);
  assert.equal(forced.code, 1);
  assert.match(forced.stderr, /`ip6tables-save -t nat` failed: ip6tables-save: command not found/);
});

test('an IPv6 table that cannot be read is skipped with a note when IPv6 was not asked for', async () => {
  const { exec } = fakeExec({
    ...bothFamilies,
    'ip6tables-save --version': { stdout: 'ip6tables-save v1.8.9 (legacy)' },
    'ip6tables-save': { code: 1, stderr: "ip6tables-save: can't initialize ip6tables table `nat': Table does not exist" },
  });
  const res = await run([], exec);
  assert.equal(res.code, 0);
  assert.match(res.stderr, /skipping ip6tables .*Table does not exist.*pass --ipv6 to require it/);
});

test('without privilege, init says it needs root (CAP_NET_ADMIN) and quotes iptables', async () => {
  const denied = 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)';
  const { exec, calls } = fakeExec({ ...bothFamilies, 'iptables-save': { code: 4, stderr: denied } });
  const res = await run([], exec);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /needs root \(CAP_NET_ADMIN\)/);
  assert.match(res.stderr, /`iptables-save -t nat` said: .*Permission denied/);
  assert.ok(!calls.some((c) => c.cmd.endsWith('-restore')), 'nothing is applied after a failed read');
});

test('a failing iptables-restore is reported with the command, its stderr and the failing line', async () => {
  const { exec } = fakeExec({
    ...bothFamilies,
    'iptables-restore': { code: 2, stderr: "iptables-restore: unknown option \"--uid-owner\"\nError occurred at line: 6\n" },
  });
  const res = await run(['--no-ipv6'], exec);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /`iptables-restore --noflush -w` failed \(exit 2\): iptables-restore: unknown option/);
  assert.match(res.stderr, /the failing input line: -A FATHOM_PROXY_INIT_OUTPUT -m owner --uid-owner 2102/);
});

test('--remove with nothing installed succeeds without running restore', async () => {
  const { exec, calls } = fakeExec(bothFamilies);
  const res = await run(['--remove'], exec);
  assert.equal(res.code, 0);
  assert.match(res.stdout, /iptables: nothing to remove\nip6tables: nothing to remove/);
  assert.ok(!calls.some((c) => c.cmd.endsWith('-restore')));
});

test('bad flags exit 2 with the flag named; --help prints usage and exits 0', async () => {
  const { exec, calls } = fakeExec(bothFamilies);
  const bad = await run(['--skip-inbound-ports', 'ssh'], exec);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^fathom-proxy init: --skip-inbound-ports: "ssh" is not a port number\n/);
  assert.match(bad.stderr, /fathom-proxy init --help/);
  const help = await run(['--help'], exec);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: fathom-proxy init/);
  assert.deepEqual(calls, []);
});
