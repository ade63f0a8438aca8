// `fathom-proxy init` for real: the launcher runs inside a fresh network namespace and we read the
// nat table back with iptables-save. Needs root; skipped otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNetns, needsRoot, type Netns } from '../helpers/netns.js';
import { buildRules } from '../../src/proxy/init/rules.js';
import { renderRule } from '../../src/proxy/init/restore.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LAUNCHER = `${ROOT}bin/fathom-proxy`;
const HAS_IP6TABLES = spawnSync('ip6tables-save', ['--version']).status === 0;
const FAMILIES = HAS_IP6TABLES ? (['iptables', 'ip6tables'] as const) : (['iptables'] as const);
type Family = (typeof FAMILIES)[number];

const DEFAULT_RULES = buildRules({ proxyUid: 2102, inboundPort: 4143, outboundPort: 4140, skipInboundPorts: [], skipOutboundPorts: [] });

function init(ns: Netns, args: string[], uid?: number) {
  return ns.exec(process.execPath, [LAUNCHER, 'init', ...args], uid === undefined ? {} : { uid });
}

/** The nat table as iptables-save prints it, minus timestamps and counters, so two reads compare equal. */
async function nat(ns: Netns, family: Family): Promise<string> {
  const res = await ns.exec(`${family}-save`, ['-t', 'nat']);
  assert.equal(res.code, 0, res.stderr);
  return res.stdout
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .map((line) => line.replace(/\[\d+:\d+\]$/, '[0:0]'))
    .join('\n');
}

function count(haystack: string, line: string): number {
  return haystack.split('\n').filter((l) => l === line).length;
}

async function ok(res: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await res;
  assert.equal(r.code, 0, `init failed: ${r.stderr}`);
  return r.stdout;
}

test('init installs the redirect rules, once, for each family', needsRoot, async (t) => {
  const ns = await createNetns('fathom-t', t);
  const out = await ok(init(ns, []));
  assert.match(out, /iptables: installed 5 rules/);
  for (const family of FAMILIES) {
    const table = await nat(ns, family);
    for (const rule of DEFAULT_RULES) assert.equal(count(table, renderRule(rule)), 1, `${family}: ${renderRule(rule)}`);
    assert.match(table, /^:FATHOM_PROXY_INIT_REDIRECT - \[0:0\]$/m);
    assert.match(table, /^:FATHOM_PROXY_INIT_OUTPUT - \[0:0\]$/m);
  }
});

test('applying twice changes nothing; applying other flags replaces the rules', needsRoot, async (t) => {
  const ns = await createNetns('fathom-t', t);
  await ok(init(ns, []));
  const first = await Promise.all(FAMILIES.map((f) => nat(ns, f)));
  assert.match(await ok(init(ns, [])), /jumps: already present/);
  assert.deepEqual(await Promise.all(FAMILIES.map((f) => nat(ns, f))), first);

  await ok(init(ns, ['--skip-inbound-ports', '22,8000-8010', '--skip-outbound-ports', '3306', '--proxy-uid', '1500']));
  for (const family of FAMILIES) {
    const table = await nat(ns, family);
    assert.match(table, /--dports 22,4190,4191,8000:8010 .* -j RETURN/);
    assert.match(table, /--dports 3306 .* -j RETURN/);
    assert.match(table, /--uid-owner 1500 /);
    assert.doesNotMatch(table, /--uid-owner 2102 /, 'the old rules are gone');
    assert.equal(table.split('\n').filter((l) => l.startsWith('-A PREROUTING')).length, 1);
    assert.equal(table.split('\n').filter((l) => l.startsWith('-A OUTPUT')).length, 1);
  }
});

test('--simulate changes nothing, before or after an install', needsRoot, async (t) => {
  const ns = await createNetns('fathom-t', t);
  const pristine = await Promise.all(FAMILIES.map((f) => nat(ns, f)));
  const printed = await ok(init(ns, ['--simulate']));
  assert.match(printed, /would run `iptables-restore --noflush -w`/);
  assert.deepEqual(await Promise.all(FAMILIES.map((f) => nat(ns, f))), pristine);

  await ok(init(ns, []));
  const installed = await Promise.all(FAMILIES.map((f) => nat(ns, f)));
  await ok(init(ns, ['--simulate', '--skip-outbound-ports', '25']));
  await ok(init(ns, ['--simulate', '--remove']));
  assert.deepEqual(await Promise.all(FAMILIES.map((f) => nat(ns, f))), installed);
});

test('--remove leaves the nat table as it was before init, and is idempotent', needsRoot, async (t) => {
  const ns = await createNetns('fathom-t', t);
  // Someone else's rules must survive both init and remove.
  for (const family of FAMILIES) {
    const res = await ns.exec(`${family}-restore`, ['--noflush'], {
      input: '*nat\n:OTHER_CHAIN - [0:0]\n-A OTHER_CHAIN -p udp -j RETURN\n-A OUTPUT -p udp --dport 53 -j OTHER_CHAIN\nCOMMIT\n',
    });
    assert.equal(res.code, 0, res.stderr);
  }
  const before = await Promise.all(FAMILIES.map((f) => nat(ns, f)));
  await ok(init(ns, ['--skip-outbound-ports', '1-20,30,40,50']));
  const removed = await ok(init(ns, ['--remove']));
  assert.match(removed, /iptables: removed 2 jump\(s\) and chain\(s\) FATHOM_PROXY_INIT_REDIRECT, FATHOM_PROXY_INIT_OUTPUT/);
  const after = await Promise.all(FAMILIES.map((f) => nat(ns, f)));
  assert.deepEqual(after, before);
  for (const table of after) assert.doesNotMatch(table, /FATHOM|fathom-init/);

  assert.match(await ok(init(ns, ['--remove'])), /iptables: nothing to remove/);
  assert.deepEqual(await Promise.all(FAMILIES.map((f) => nat(ns, f))), before);
});

test('--remove also removes a jump someone re-added by hand', needsRoot, async (t) => {
  const ns = await createNetns('fathom-t', t);
  await ok(init(ns, ['--no-ipv6']));
  const extra = await ns.exec('iptables', ['-w', '-t', 'nat', '-I', 'OUTPUT', '-p', 'tcp', '-j', 'FATHOM_PROXY_INIT_OUTPUT']);
  assert.equal(extra.code, 0, extra.stderr);
  await ok(init(ns, ['--remove', '--no-ipv6']));
  assert.doesNotMatch(await nat(ns, 'iptables'), /FATHOM/);
});

test('--no-ipv6 leaves ip6tables alone', { skip: needsRoot.skip ?? (HAS_IP6TABLES ? undefined : 'ip6tables not installed') }, async (t) => {
  const ns = await createNetns('fathom-t', t);
  const v6 = await nat(ns, 'ip6tables');
  const out = await ok(init(ns, ['--no-ipv6']));
  assert.doesNotMatch(out, /ip6tables/);
  assert.equal(await nat(ns, 'ip6tables'), v6);
  assert.match(await nat(ns, 'iptables'), /FATHOM_PROXY_INIT_OUTPUT/);
});

test('without root, init says it needs CAP_NET_ADMIN and exits 1', needsRoot, async (t) => {
  const ns = await createNetns('fathom-t', t);
  const res = await init(ns, [], 65534);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /needs root \(CAP_NET_ADMIN\)/);
  assert.match(res.stderr, /`iptables-save -t nat` said: /);
});

test('bad flags exit 2 naming the flag, before touching anything', needsRoot, async (t) => {
  const ns = await createNetns('fathom-t', t);
  const before = await nat(ns, 'iptables');
  const res = await init(ns, ['--outbound-port', '99999']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--outbound-port: port 99999 is out of range/);
  assert.equal(await nat(ns, 'iptables'), before);
});
