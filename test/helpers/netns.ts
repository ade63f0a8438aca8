// Network namespaces for tests: create isolated namespaces, wire them with veth pairs, run processes
// inside them (optionally as another uid, e.g. the proxy's 2102), and always clean them up.
//
// Safety rules these helpers keep, and tests using them should too: nothing here touches the root
// namespace's routes or iptables (veth pairs are created inside a test namespace and moved to the
// other one; addresses exist only inside the namespaces), and every namespace is named
// `fathom-t-<pid>-<random>` so that a leftover is recognisable and can be swept.
//
// Typical use:
//   test('redirects', needsRoot, async (t) => {
//     const pod = await createNetns('fathom-t', t);     // destroyed by t.after, even on failure
//     const peer = await createNetns('fathom-t', t);
//     const { aIp, bIp } = await linkPair(pod, peer);
//     const server = peer.spawn(process.execPath, ['server.js'], { uid: 2102 });
//     await waitForPort(peer, bIp, 8080);
//     const res = await pod.exec('curl', ['-s', `http://${bIp}:8080/`]);
//   });
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { constants } from 'node:os';
import { canManageNetns } from '../../src/lib/capabilities.js';

/** True when this process can create and use network namespaces: uid 0 with CAP_NET_ADMIN and CAP_SYS_ADMIN. */
export const isRoot = canManageNetns;

/** Options for node:test, `test(name, needsRoot, fn)`: the test is skipped, with the reason, when not root. */
export const needsRoot: { skip?: string } = isRoot() ? {} : { skip: 'needs root (CAP_NET_ADMIN)' };

export interface ExecResult {
  /** Exit status; 128+n when killed by signal n (e.g. by the timeout). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin (then closed). */
  readonly input?: string;
  /** Run as this uid (and gid, default the same number); no passwd entry is needed. */
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Kill the command after this long (default 30 s); the result then has code 128+9. */
  readonly timeoutMs?: number;
}

export type NetnsSpawnOptions = SpawnOptions & { uid?: number; gid?: number };

export interface Netns {
  /** The namespace's name, as `ip netns list` shows it. */
  readonly name: string;
  /** The namespace's first IPv4 address, set by linkPair (undefined until linked). */
  ip?: string;
  /** The namespace's first IPv6 address, set by linkPair with `ipv6: true`. */
  ip6?: string;
  /** Runs a command inside the namespace to completion. Never rejects on a non-zero exit. */
  exec(cmd: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a process inside the namespace (`ip netns exec NAME [setpriv ...] cmd args`). With `uid`,
   * the process drops to that uid/gid with no supplementary groups and no capabilities. Processes
   * still running at destroy() are terminated.
   */
  spawn(cmd: string, args: readonly string[], opts?: NetnsSpawnOptions): ChildProcess;
  /** Terminates processes started in it, then deletes the namespace. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Something with node:test's `after` hook: a TestContext `t`, or a suite context. */
export interface CleanupScope {
  after(fn: () => unknown): void;
}

const live = new Set<string>();
let exitHookInstalled = false;

/** Last resort: namespaces not destroyed by their test are deleted when the process exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const name of live) spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  });
}

/**
 * The argv that runs `cmd args` inside namespace `name`, as root or, with a uid, dropped to it.
 * Privileges are dropped inside the namespace by setpriv: `ip netns exec` itself must run as root
 * (setns needs CAP_SYS_ADMIN), so Node's own spawn `uid` option cannot be used for this.
 */
export function netnsArgv(name: string, cmd: string, args: readonly string[], uid?: number, gid?: number): string[] {
  const drop =
    uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${gid ?? uid}`, '--clear-groups', '--'];
  return ['netns', 'exec', name, ...drop, cmd, ...args];
}

/**
 * Creates a network namespace named `<prefix>-<pid>-<random>` with `lo` up. With `scope` (a test
 * context), its destroy() is registered as `scope.after`, so it is cleaned up even when the test fails.
 */
export async function createNetns(prefix = 'fathom-t', scope?: CleanupScope): Promise<Netns> {
  if (!prefix.startsWith('fathom-t')) throw new Error(`netns prefix "${prefix}" must start with "fathom-t"`);
  const name = `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
  installExitHook();
  await mustRun('ip', ['netns', 'add', name]);
  live.add(name);
  const children = new Set<ChildProcess>();
  let destroyed = false;

  const ns: Netns = {
    name,
    exec(cmd, args, opts = {}) {
      return run('ip', netnsArgv(name, cmd, args, opts.uid, opts.gid), opts);
    },
    spawn(cmd, args, opts = {}) {
      const { uid, gid, ...rest } = opts;
      const child = spawn('ip', netnsArgv(name, cmd, args, uid, gid), rest);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await Promise.all([...children].map((child) => terminate(child)));
      // Anything else still in the namespace was started by the test through exec or a grandchild.
      const pids = await run('ip', ['netns', 'pids', name]);
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await mustRun('ip', ['netns', 'delete', name]);
      live.delete(name);
    },
  };
  scope?.after(() => ns.destroy());
  try {
    await mustRun('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await ns.destroy();
    throw err;
  }
  return ns;
}

export interface LinkPairOptions {
  /** Also give both ends IPv6 addresses (::1, ::2) of a random fd00::/8 (ULA) /64, without DAD delay. */
  readonly ipv6?: boolean;
}

export interface LinkPair {
  readonly aIp: string;
  readonly bIp: string;
  /** Interface names inside a and b. */
  readonly aDev: string;
  readonly bDev: string;
  /** Set with `ipv6: true`. */
  readonly aIp6?: string;
  readonly bIp6?: string;
}

/**
 * Connects two namespaces with a veth pair, created inside `a` and moved straight into `b` (the root
 * namespace never sees it). The ends get .1 and .2 of a random /30 inside `subnet` (default
 * 198.18.250.0/24, a benchmarking range that is never routed) and are brought up. Sets `ip`/`ip6` on
 * each namespace that has none yet. No routes beyond the link's own are added: add a default route
 * with `ns.exec('ip', ['route', 'add', 'default', 'via', peerIp])` when a test needs one.
 */
export async function linkPair(a: Netns, b: Netns, subnet = '198.18.250.0/24', opts: LinkPairOptions = {}): Promise<LinkPair> {
  const [aIp, bIp] = randomSlash30(subnet);
  const tag = randomBytes(3).toString('hex');
  const aDev = `fv${tag}a`;
  const bDev = `fv${tag}b`;
  await mustRun('ip', ['-n', a.name, 'link', 'add', aDev, 'type', 'veth', 'peer', 'name', bDev, 'netns', b.name]);
  await mustRun('ip', ['-n', a.name, 'addr', 'add', `${aIp}/30`, 'dev', aDev]);
  await mustRun('ip', ['-n', b.name, 'addr', 'add', `${bIp}/30`, 'dev', bDev]);
  let aIp6: string | undefined;
  let bIp6: string | undefined;
  if (opts.ipv6) {
    // Groups of 0x1000-0xffff: four digits, never zero, so the text is already canonical (RFC 5952)
    // and compares equal to what the kernel and Node report.
    const group = () => randomInt(0x1000, 0x10000).toString(16);
    const net = `fd${randomBytes(1).toString('hex')}:${group()}:${group()}:${group()}`;
    aIp6 = `${net}::1`;
    bIp6 = `${net}::2`;
    // nodad: the address is usable at once instead of "tentative" for a second or two.
    await mustRun('ip', ['-n', a.name, 'addr', 'add', `${aIp6}/64`, 'dev', aDev, 'nodad']);
    await mustRun('ip', ['-n', b.name, 'addr', 'add', `${bIp6}/64`, 'dev', bDev, 'nodad']);
  }
  await mustRun('ip', ['-n', a.name, 'link', 'set', aDev, 'up']);
  await mustRun('ip', ['-n', b.name, 'link', 'set', bDev, 'up']);
  a.ip ??= aIp;
  b.ip ??= bIp;
  if (aIp6 && bIp6) {
    a.ip6 ??= aIp6;
    b.ip6 ??= bIp6;
  }
  return { aIp, bIp, aDev, bDev, ...(aIp6 && bIp6 ? { aIp6, bIp6 } : {}) };
}

/** Two host addresses (.1 and .2) of a random /30 inside an IPv4 CIDR of prefix length 30 or less. */
function randomSlash30(subnet: string): [string, string] {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(subnet);
  const len = m ? Number(m[5]) : NaN;
  const octets = m ? m.slice(1, 5).map(Number) : [];
  if (!m || !(len >= 8 && len <= 30) || octets.some((o) => o > 255)) {
    throw new Error(`linkPair subnet "${subnet}" must be an IPv4 CIDR with a prefix of /8 to /30`);
  }
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - len);
  const start = base - (base % size) + randomInt(size / 4) * 4;
  const text = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
  return [text(start + 1), text(start + 2)];
}

/**
 * Resolves once a TCP connect to host:port from inside the namespace succeeds (tried every 50 ms by
 * one small Node process in the namespace); rejects after timeoutMs. Connects as root unless `uid`.
 */
export async function waitForPort(ns: Netns, host: string, port: number, timeoutMs = 5000, uid?: number): Promise<void> {
  const probe = `
    const net = require('node:net');
    const [host, port, ms] = process.argv.slice(1);
    const deadline = Date.now() + Number(ms);
    (function attempt() {
      const s = net.connect({ host, port: Number(port) });
      s.once('connect', () => { s.destroy(); process.exit(0); });
      s.once('error', (e) => {
        if (Date.now() >= deadline) { console.error(e.code || e.message); process.exit(1); }
        setTimeout(attempt, 50);
      });
    })();`;
  const res = await ns.exec(process.execPath, ['-e', probe, host, String(port), String(timeoutMs)], {
    timeoutMs: timeoutMs + 5000,
    ...(uid === undefined ? {} : { uid }),
  });
  if (res.code !== 0) {
    throw new Error(`${host}:${port} in ${ns.name} not accepting connections after ${timeoutMs} ms: ${res.stderr.trim()}`);
  }
}

/**
 * Resolves with the first line the process prints on stdout that matches `pattern` (e.g. a
 * server's "listening" line); rejects when it exits first or after timeoutMs.
 */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) {
      reject(new Error('waitForOutput: the child has no stdout pipe (spawn it with stdio "pipe")'));
      return;
    }
    const stdout = child.stdout;
    let buffered = '';
    let stderr = '';
    const onStderr = (chunk: Buffer) => {
      stderr += chunk.toString();
    };
    const finish = (err: Error | undefined, line?: string) => {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.stderr?.off('data', onStderr);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line!);
    };
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      const hit = lines.find((line) => pattern.test(line));
      if (hit !== undefined) finish(undefined, hit);
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`process exited (${code ?? signal}) before printing ${pattern}; stderr: ${stderr.trim()}`));
    const timer = setTimeout(() => finish(new Error(`no output matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr.trim()}`)), timeoutMs);
    stdout.on('data', onData);
    child.stderr?.on('data', onStderr);
    child.once('exit', onExit);
  });
}

/**
 * Deletes namespaces left by earlier test runs that died without cleaning up: only names made by
 * createNetns (`fathom-t...-<pid>-<hex>`) whose creating process no longer exists.
 */
export async function sweepStaleNetns(): Promise<string[]> {
  const list = await run('ip', ['netns', 'list']);
  const swept: string[] = [];
  for (const line of list.stdout.split('\n')) {
    const name = line.split(/\s+/)[0] ?? '';
    const m = /^fathom-t[a-z0-9-]*-(\d+)-[0-9a-f]{6}$/.exec(name);
    if (!m || processExists(Number(m[1]))) continue;
    await run('ip', ['netns', 'delete', name]);
    swept.push(name);
  }
  return swept;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM, then SIGKILL if the process has not exited after 2 s. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const status = code ?? 128 + (signal ? constants.signals[signal] : 0);
      resolve({ code: status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

async function mustRun(cmd: string, args: readonly string[]): Promise<ExecResult> {
  const res = await run(cmd, args);
  if (res.code !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${res.code}): ${res.stderr.trim()}`);
  return res;
}
