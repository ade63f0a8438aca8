// Network namespaces for the benchmark's mesh: create them, link two with a veth pair, run commands and
// long-lived processes inside them (optionally as another uid, e.g. the proxy's 2102), and always delete
// them — on stop, when the runner exits or is interrupted, and at the next start after a crash.
//
// The same safety rules as test/helpers/netns.ts (whose ideas this follows; bench/ keeps its own copy
// so the benchmark does not depend on test code): nothing here touches the root namespace's links,
// routes or iptables. A veth pair is created inside one namespace with its peer placed straight into the
// other, and addresses, routes and iptables rules exist only inside the namespaces, so deleting a
// namespace (after killing what runs in it) removes everything it held. Names are
// `fbench-<runner pid>-<n>-<role>`, so a leftover is recognisable and its owner checkable.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { canManageNetns } from '../../src/lib/capabilities.js';
import { start, type Child } from './processes.js';

export const NETNS_PREFIX = 'fbench';

/** True when this process can create and use network namespaces: uid 0 with CAP_NET_ADMIN and CAP_SYS_ADMIN. */
export const isRoot = canManageNetns;

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface InNetnsOptions {
  /** Run as this uid (and the same gid), no supplementary groups; default: as the runner (root). */
  readonly uid?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * The argv of `ip` that runs `cmd args` inside namespace `name`. `ip netns exec` and setpriv both exec
 * (no fork), so the spawned pid is the command's own: the runner samples a proxy's CPU and RSS by it.
 */
export function netnsArgv(name: string, cmd: string, args: readonly string[], uid?: number): string[] {
  const drop = uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
  return ['netns', 'exec', name, ...drop, cmd, ...args];
}

/** Runs a command to completion (killed after `timeoutMs`); never rejects on a non-zero exit. */
export function run(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: '', stderr: e.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

async function mustRun(cmd: string, args: readonly string[]): Promise<ExecResult> {
  const res = await run(cmd, args);
  if (res.code !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${res.code}): ${res.stderr.trim()}`);
  return res;
}

/** Namespaces and directories this process created and has not deleted yet: the exit hook deletes them. */
const live = new Set<string>();
const liveDirs = new Set<string>();
let created = 0;
let exitHookInstalled = false;

/** Kills every process in namespace `name` and deletes it, synchronously (for the exit hook). */
function deleteNowSync(name: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
  spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs on a normal exit, after an uncaught error, and after the runner's SIGINT/SIGTERM handler.
  process.on('exit', () => {
    for (const name of live) deleteNowSync(name);
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** True when process `pid` exists (whoever owns it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes what an earlier run that died without cleaning up left behind: namespaces named
 * `fbench-<pid>-...` (and the processes still in them) and temporary directories of the same name, whose
 * runner no longer exists. Those of this process and of any other live run are left alone.
 */
export async function sweepStale(): Promise<string[]> {
  const swept: string[] = [];
  const stale = (name: string): boolean => {
    const m = new RegExp(`^${NETNS_PREFIX}-(\\d+)-`).exec(name);
    return m !== null && !alive(Number(m[1]));
  };
  const list = await run('ip', ['netns', 'list']);
  for (const name of list.stdout.split('\n').map((l) => l.split(/\s+/)[0] ?? '')) {
    if (!stale(name)) continue;
    const pids = await run('ip', ['netns', 'pids', name]);
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
    await run('ip', ['netns', 'delete', name]);
    swept.push(name);
  }
  for (const name of readdirSync(tmpdir())) {
    if (!stale(name)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
    swept.push(join(tmpdir(), name));
  }
  return swept;
}

/** A name for this run's next set of namespaces and its temporary directory: `fbench-<pid>-<n>`. */
export function runTag(): string {
  return `${NETNS_PREFIX}-${process.pid}-${++created}`;
}

/**
 * Creates `<tmpdir>/<tag>`, readable by every uid (a proxy's uid reads its token and the trust anchors
 * there); the returned function removes it, as does the exit hook if it was not called.
 */
export function createRunDir(tag: string): { dir: string; remove: () => void } {
  installExitHook();
  const dir = join(tmpdir(), tag);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755); // whatever the umask
  liveDirs.add(dir);
  return {
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
}

export class Netns {
  private readonly children = new Set<Child>();
  private deleted = false;

  private constructor(readonly name: string) {}

  /** Creates namespace `name` (which must start with `fbench-`) with `lo` up. */
  static async create(name: string): Promise<Netns> {
    if (!name.startsWith(`${NETNS_PREFIX}-`)) throw new Error(`netns name "${name}" must start with "${NETNS_PREFIX}-"`);
    installExitHook();
    await mustRun('ip', ['netns', 'add', name]);
    live.add(name);
    const ns = new Netns(name);
    try {
      await mustRun('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (err) {
      await ns.delete();
      throw err;
    }
    return ns;
  }

  /** Runs a command inside the namespace to completion. */
  exec(cmd: string, args: readonly string[], opts: { uid?: number; timeoutMs?: number } = {}): Promise<ExecResult> {
    return run('ip', netnsArgv(this.name, cmd, args, opts.uid), opts.timeoutMs);
  }

  /** Starts a long-lived process inside the namespace; it is stopped (at the latest) by delete(). */
  spawn(label: string, cmd: string, args: readonly string[], opts: InNetnsOptions & { stdout?: 'pipe' | 'ignore' } = {}): Child {
    const child = start(label, 'ip', netnsArgv(this.name, cmd, args, opts.uid), {
      stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    this.children.add(child);
    child.proc.once('exit', () => this.children.delete(child));
    return child;
  }

  /** GETs a URL from inside the namespace (e.g. a proxy's admin port on its loopback); the body, or an error. */
  async fetchText(url: string): Promise<string> {
    const res = await this.exec('curl', ['-sf', '--max-time', '5', url]);
    if (res.code !== 0) throw new Error(`GET ${url} in ${this.name} failed (curl exit ${res.code}) ${res.stderr.trim()}`);
    return res.stdout;
  }

  /** Stops what runs inside (SIGTERM, SIGKILL after 5 s), kills anything left, deletes the namespace. Safe to call twice. */
  async delete(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    await Promise.all([...this.children].map((c) => c.stop(5000)));
    const pids = await run('ip', ['netns', 'pids', this.name]);
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
    await run('ip', ['netns', 'delete', this.name]);
    live.delete(this.name);
  }
}

/**
 * Connects two namespaces with a veth pair: created inside `a` with its peer placed straight into `b`
 * (the root namespace never holds it), addressed `aIp`/`bIp` on a /30, and brought up. Deleting either
 * namespace deletes the pair.
 */
export async function linkPair(a: Netns, b: Netns, aIp: string, bIp: string): Promise<{ aDev: string; bDev: string }> {
  const aDev = 'fbench-a';
  const bDev = 'fbench-b';
  await mustRun('ip', ['-n', a.name, 'link', 'add', aDev, 'type', 'veth', 'peer', 'name', bDev, 'netns', b.name]);
  await mustRun('ip', ['-n', a.name, 'addr', 'add', `${aIp}/30`, 'dev', aDev]);
  await mustRun('ip', ['-n', b.name, 'addr', 'add', `${bIp}/30`, 'dev', bDev]);
  await mustRun('ip', ['-n', a.name, 'link', 'set', aDev, 'up']);
  await mustRun('ip', ['-n', b.name, 'link', 'set', bDev, 'up']);
  return { aDev, bDev };
}

/** Adds a route inside `ns` (e.g. the service range, so an app's connect() reaches the OUTPUT redirect). */
export async function addRoute(ns: Netns, cidr: string, dev: string): Promise<void> {
  await mustRun('ip', ['-n', ns.name, 'route', 'add', cidr, 'dev', dev]);
}
