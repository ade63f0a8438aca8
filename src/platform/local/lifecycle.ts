// `fathom up` and `fathom down` for the local platform: bring up the host network, the agent, the
// controller and Prometheus (idempotently, waiting until each answers), and take all of it down again,
// pods first, then daemons, then every recorded host change.
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FathomError } from '../../lib/errors.js';
import { loadConfig, makeConfig, saveConfig, type ConfigInput, type LocalConfig } from './config.js';
import { daemonPid, startDaemon, stopDaemon, type DaemonSpec } from './daemons.js';
import { run } from './exec.js';
import { writeFileAtomic } from './files.js';
import { hostNetworkUp } from './host-network.js';
import { Journal } from './journal.js';
import { layout } from './layout.js';
import { destroyPodNetwork, ETC_NETNS, etcDir } from './pod-network.js';
import { stopPod } from './pods.js';
import { createShared } from './shared-host.js';
import { PROMETHEUS_BIN, prometheusArgs, prometheusConfig, prometheusPaths } from './prometheus.js';
import { loadPods } from './snapshot.js';

const AGENT_MAIN = new URL('./agent-main.js', import.meta.url).pathname;
const UP_TIMEOUT_MS = 60_000;

export type Progress = (waitingFor: readonly string[]) => void;

/** Daemons in start order. */
function daemons(config: LocalConfig): DaemonSpec[] {
  const node = process.execPath;
  return [
    { name: 'agent', command: node, args: [AGENT_MAIN, '--state-dir', config.stateDir] },
    {
      name: 'controller',
      command: node,
      args: [
        `${config.installDir}/bin/fathom-controller`,
        ...['--platform', 'local', '--state-dir', config.stateDir, '--addr', `${config.gateway}:${config.controllerPort}`],
        ...['--api-addr', `127.0.0.1:${config.apiPort}`, '--prometheus-url', `http://127.0.0.1:${config.prometheusPort}`],
        ...['--dashboard-addr', `127.0.0.1:${config.dashboardPort}`],
      ],
    },
    { name: 'prometheus', command: PROMETHEUS_BIN, args: prometheusArgs(config) },
  ];
}

/** Starts whatever is not running yet and waits until everything answers. */
export async function up(input: ConfigInput, progress: Progress = () => {}): Promise<LocalConfig> {
  const stateDir = makeConfig(input).stateDir;
  const saved = loadConfig(stateDir);
  // The journal exists from `up` to `down`: while it does, the settings are fixed.
  const isUp = existsSync(layout(stateDir).journal);
  const config = saved && isUp ? sameOrError(saved, input) : saved ? changed(saved, input) : makeConfig(input);
  // The proxy (uid 2102) reads trust anchors and its token below the state directory.
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  chmodSync(stateDir, 0o755);
  saveConfig(config);
  const journal = new Journal(layout(stateDir).journal);
  journal.record({ kind: 'dir', path: ETC_NETNS });
  await createShared([{ kind: 'dir', path: ETC_NETNS }], async () => mkdirSync(ETC_NETNS, { recursive: true, mode: 0o755 }));
  await hostNetworkUp(config, journal);
  const prom = prometheusPaths(stateDir);
  mkdirSync(prom.data, { recursive: true, mode: 0o755 });
  writeFileAtomic(prom.config, prometheusConfig(config));
  if (!existsSync(prom.targets)) writeFileAtomic(prom.targets, '[]\n');
  const ready = join(layout(stateDir).run, 'agent.ready');
  if (!daemonPid(stateDir, 'agent')) rmSync(ready, { force: true });
  for (const spec of daemons(config)) startDaemon(stateDir, spec);
  await waitFor(config, progress);
  return config;
}

/** `up` again with other settings is refused: they are fixed until `down`. */
function sameOrError(saved: LocalConfig, input: ConfigInput): LocalConfig {
  const wanted = makeConfig({ ...saved, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) });
  for (const field of ['tag', 'podCidr', 'serviceCidr', 'prometheusPort', 'apiPort', 'dashboardPort', 'proxyStandalone'] as const) {
    if (wanted[field] !== saved[field]) {
      throw new FathomError('ECONFIG', `the local platform in ${saved.stateDir} is up with ${field} ${String(saved[field])}; run 'fathom down' before changing it`);
    }
  }
  return saved;
}

/**
 * Settings for an `up` after a `down` that kept the state: what is given replaces what was saved, except
 * the service range, which the kept Services' cluster IPs belong to. The standalone switch is off unless
 * given again.
 */
function changed(saved: LocalConfig, input: ConfigInput): LocalConfig {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const config = makeConfig({ ...saved, proxyStandalone: false, ...given });
  if (config.serviceCidr !== saved.serviceCidr && existsSync(layout(saved.stateDir).objects) && readdirSync(layout(saved.stateDir).objects).some((f) => f.startsWith('Service_'))) {
    throw new FathomError('ECONFIG', `the Services kept in ${saved.stateDir} have cluster IPs in ${saved.serviceCidr}; keep that --service-cidr, or 'fathom down --purge' first`);
  }
  return config;
}

async function waitFor(config: LocalConfig, progress: Progress): Promise<void> {
  const checks: Record<string, () => Promise<boolean>> = {
    agent: async () => existsSync(join(layout(config.stateDir).run, 'agent.ready')),
    controller: () => accepts(config.gateway, config.controllerPort),
    prometheus: async () => (await fetch(`http://127.0.0.1:${config.prometheusPort}/-/ready`).catch(() => undefined))?.status === 200,
  };
  const deadline = Date.now() + UP_TIMEOUT_MS;
  let pending = Object.keys(checks);
  while (pending.length > 0) {
    const results = await Promise.all(pending.map(async (name) => ((await checks[name]!()) ? undefined : name)));
    pending = results.filter((n): n is string => n !== undefined);
    const dead = pending.filter((name) => !daemonPid(config.stateDir, name));
    if (dead.length > 0) throw new FathomError('EUP', `${dead.join(', ')} exited while starting; see ${layout(config.stateDir).logs}/${dead[0]}.log`);
    if (pending.length === 0) break;
    if (Date.now() > deadline) throw new FathomError('EUP', `${pending.join(', ')} did not become ready in ${UP_TIMEOUT_MS / 1000}s; see ${layout(config.stateDir).logs}`);
    progress(pending);
    await sleep(200);
  }
  progress([]);
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Stops the agent, deletes every pod, stops the controller and Prometheus, and undoes every host change.
 * Applied objects, the CA, logs and metrics stay for the next `up`, unless `purge`.
 */
export async function down(stateDir: string, purge: boolean): Promise<{ pods: number; wasUp: boolean }> {
  const config = loadConfig(stateDir);
  if (!config) return { pods: 0, wasUp: false };
  await stopDaemon(stateDir, 'agent');
  const pods = loadPods(stateDir);
  await Promise.all(pods.map((p) => stopPod(stateDir, p.record, p.status?.supervisorPid)));
  await sweep(config);
  await stopDaemon(stateDir, 'controller');
  await stopDaemon(stateDir, 'prometheus');
  await new Journal(layout(stateDir).journal).undoAll();
  const l = layout(stateDir);
  for (const dir of [l.pods, l.status, l.podFiles, l.run, l.tokens, l.locks]) rmSync(dir, { recursive: true, force: true });
  rmSync(prometheusPaths(stateDir).targets, { force: true });
  if (purge) {
    for (const name of ['objects', 'logs', 'prometheus', 'identity', 'trust-anchors.pem', 'host-changes.json', 'local.json']) rmSync(join(stateDir, name), { recursive: true, force: true });
    try {
      rmdirSync(stateDir);
    } catch {
      // something else lives there
    }
  } else {
    rmSync(l.journal, { force: true });
  }
  return { pods: pods.length, wasUp: true };
}

/** Removes namespaces, veths and /etc/netns entries of this instance that no pod record names any more. */
async function sweep(config: LocalConfig): Promise<void> {
  // Pod namespaces are `<tag>-<namespace>.<pod>`: the dot keeps other things named `<tag>-...` apart
  // (the test helpers' `fathom-t-<pid>-<hex>` namespaces, for the default tag).
  const ours = new RegExp(`^${config.tag}-[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.[a-z0-9][-a-z0-9]*$`);
  const netns = await run('ip', ['netns', 'list']);
  for (const name of netns.stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    if (ours.test(name)) await destroyPodNetwork({ netns: name, hostVeth: '' });
  }
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout || '[]') as { ifname: string }[];
  for (const link of links) {
    if (new RegExp(`^${config.tag}-[0-9a-f]{6}$`).test(link.ifname)) await run('ip', ['link', 'delete', 'dev', link.ifname]);
  }
  if (existsSync(ETC_NETNS)) for (const name of readdirSync(ETC_NETNS)) if (ours.test(name)) rmSync(etcDir(name), { recursive: true, force: true });
}
