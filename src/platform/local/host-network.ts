// The host side of an instance's network, made by `fathom up`: the gateway link holding the host's
// address facing the pods, and the iptables chains of the fence and of service routing. Pods hang off
// the host as routed /32 veths (pod-network.ts), so every packet between pods crosses the host's
// conntrack and this fence.
import { FathomError } from '../../lib/errors.js';
import { overlaps, parseCidr, type Cidr } from './cidr.js';
import type { LocalConfig } from './config.js';
import { mustRun, run } from './exec.js';
import type { Journal, Table } from './journal.js';
import { createShared } from './shared-host.js';

/** Names of an instance's host objects. */
export function hostNames(tag: string) {
  return {
    /** Holds the gateway address (a bridge with no ports, used as a dummy: no dummy module needed). */
    gatewayLink: `${tag}0`,
    /** Host ends of pod veths match `<tag>-+` (the dash keeps tags that are prefixes apart). */
    vethPattern: `${tag}-+`,
    chains: {
      services: `FATHOM-SVC-${tag}`,
      postrouting: `FATHOM-POST-${tag}`,
      forward: `FATHOM-FWD-${tag}`,
      input: `FATHOM-IN-${tag}`,
    },
  };
}

/** Where each chain is hooked in. */
const HOOKS: readonly { table: Table; chain: keyof ReturnType<typeof hostNames>['chains']; from: string }[] = [
  { table: 'nat', chain: 'services', from: 'PREROUTING' },
  { table: 'nat', chain: 'postrouting', from: 'POSTROUTING' },
  { table: 'filter', chain: 'forward', from: 'FORWARD' },
  { table: 'filter', chain: 'input', from: 'INPUT' },
];

/**
 * The fence: from pods, the host forwards only to pods (cluster IPs were DNATed to pods before FORWARD;
 * a cluster IP left un-DNATed has no ready endpoint and is refused), accepts only the controller's port
 * and replies; nothing from elsewhere is forwarded into pods.
 */
export function fenceRules(config: LocalConfig): string[] {
  const { chains, vethPattern } = hostNames(config.tag);
  const tag = `-m comment --comment "fathom/${config.tag}/fence"`;
  return [
    `-A ${chains.forward} -i ${vethPattern} -d ${config.podCidr} ${tag} -j ACCEPT`,
    `-A ${chains.forward} -i ${vethPattern} -d ${config.serviceCidr} ${tag} -j REJECT --reject-with icmp-port-unreachable`,
    `-A ${chains.forward} -i ${vethPattern} ${tag} -j DROP`,
    `-A ${chains.forward} -o ${vethPattern} ${tag} -j DROP`,
    `-A ${chains.input} -i ${vethPattern} -m conntrack --ctstate RELATED,ESTABLISHED ${tag} -j ACCEPT`,
    `-A ${chains.input} -i ${vethPattern} -d ${config.gateway}/32 -p tcp --dport ${config.controllerPort} ${tag} -j ACCEPT`,
    `-A ${chains.input} -i ${vethPattern} ${tag} -j DROP`,
  ];
}

/** Creates (or re-asserts) the gateway link and the chains; every change is journaled first. */
export async function hostNetworkUp(config: LocalConfig, journal: Journal): Promise<void> {
  const names = hostNames(config.tag);
  const link = await run('ip', ['link', 'show', 'dev', names.gatewayLink]);
  if (link.code !== 0) {
    await checkRangesFree(config);
    journal.record({ kind: 'link', name: names.gatewayLink });
    await mustRun('ip', ['link', 'add', names.gatewayLink, 'type', 'bridge']);
    await run('sysctl', ['-qw', `net.ipv6.conf.${names.gatewayLink}.disable_ipv6=1`]);
    await mustRun('ip', ['addr', 'add', `${config.gateway}/32`, 'dev', names.gatewayLink]);
    await mustRun('ip', ['link', 'set', names.gatewayLink, 'up']);
  }
  const tables = (['nat', 'filter'] as const).map((table) => ({ kind: 'table' as const, table }));
  for (const t of tables) journal.record(t);
  await createShared(tables, async () => {
    for (const hook of HOOKS) journal.record({ kind: 'chain', table: hook.table, chain: names.chains[hook.chain] });
    for (const table of ['nat', 'filter'] as const) await installChains(config, table);
  });
}

/** Declares this table's chains (flushing them), refills the fence, and adds missing jumps. */
async function installChains(config: LocalConfig, table: Table): Promise<void> {
  const names = hostNames(config.tag);
  const hooks = HOOKS.filter((h) => h.table === table);
  const saved = await mustRun('iptables-save', ['-t', table]);
  const lines = [`*${table}`];
  for (const hook of hooks) {
    const chain = names.chains[hook.chain];
    // A declared chain is created, or flushed if it exists: the services chains start empty and the
    // agent fills them; the fence is rewritten whole.
    if (hook.chain !== 'services' && hook.chain !== 'postrouting') lines.push(`:${chain} - [0:0]`);
    else if (!saved.stdout.includes(`\n:${chain} `)) lines.push(`:${chain} - [0:0]`);
  }
  if (table === 'filter') lines.push(...fenceRules(config));
  for (const hook of hooks) {
    const chain = names.chains[hook.chain];
    const jumped = saved.stdout.split('\n').some((l) => l.startsWith(`-A ${hook.from} `) && l.includes(`-j ${chain}`));
    if (!jumped) lines.push(`-I ${hook.from} 1 -m comment --comment "fathom/${config.tag}" -j ${chain}`);
  }
  lines.push('COMMIT', '');
  await mustRun('iptables-restore', ['--noflush', '-w'], { input: lines.join('\n') });
}

/** Refuses to start when a host route already covers the pod or service range (another instance?). */
async function checkRangesFree(config: LocalConfig): Promise<void> {
  const routes = await mustRun('ip', ['-4', 'route', 'show', 'table', 'all']);
  const ours = [parseCidr(config.podCidr) as Cidr, parseCidr(config.serviceCidr) as Cidr];
  for (const line of routes.stdout.split('\n')) {
    const dst = line.split(/\s+/).find((w, i) => i <= 1 && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(w));
    if (!dst || line.startsWith('broadcast') || line.includes(' table local ')) continue;
    const cidr = parseCidr(dst.includes('/') ? dst : `${dst}/32`);
    if (typeof cidr === 'string' || cidr.prefix === 0) continue;
    const clash = ours.find((c) => overlaps(c, cidr));
    if (clash) throw new FathomError('ECONFIG', `the range ${clash.text} is already routed on this host ("${line.trim()}"); another fathom instance? choose other ranges`);
  }
}
