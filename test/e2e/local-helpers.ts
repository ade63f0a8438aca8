// Helpers for the local platform's end-to-end tests: one `fathom up` per test file with its own state
// directory, tag, address ranges and Prometheus port (so files run in parallel), the real `fathom` CLI
// as a subprocess, bounded waits, and a picture of the host to prove that `fathom down` leaves nothing.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FATHOM_BIN = join(ROOT, 'bin/fathom');
export const FIXTURES = join(ROOT, 'test/fixtures/local');

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion with a timeout (never rejects on a non-zero exit). */
export function sh(cmd: string, args: readonly string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, [...args], { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', (err) => (clearTimeout(timer), resolve({ code: 127, stdout, stderr: stderr + err.message })));
    child.once('close', (code) => (clearTimeout(timer), resolve({ code: code ?? 137, stdout, stderr })));
  });
}

/** Polls `check` until it returns a value (not undefined/false) or `timeoutMs` passes; then throws with `what` and the last detail. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** The pids among `pids` that are still running (zombies, waiting to be reaped by init, are not). */
export function stillRunning(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
    } catch {
      return false;
    }
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface PodJson {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { containers: { name: string }[] };
  status: { phase: string; podIP: string; containerStatuses: { name: string; ready: boolean; restartCount: number }[] };
}

/** One local platform for a test file. */
export class Instance {
  readonly stateDir: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly gateway: string;
  prometheusPort = 0;
  apiPort = 0;
  dashboardPort = 0;

  /** `n` picks the ranges 198.18.n.0/24 and 198.19.n.0/24 and the tag `fte<n>`. */
  constructor(
    readonly n: number,
    readonly env: NodeJS.ProcessEnv = {},
  ) {
    this.stateDir = mkdtempSync(join(tmpdir(), `fathom-e2e-${n}-`));
    // The proxy's uid reads its token and the trust anchors below the state directory.
    chmodSync(this.stateDir, 0o755);
    this.podCidr = `198.18.${n}.0/24`;
    this.serviceCidr = `198.19.${n}.0/24`;
    this.gateway = `198.18.${n}.1`;
  }

  get tag(): string {
    return `fte${this.n}`;
  }

  /** Runs `fathom COMMAND --state-dir DIR ARGS...`. */
  fathom(args: readonly string[], opts: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    // Right after the command name: anything after `--` belongs to the command `exec` runs.
    const [command, ...rest] = args;
    return sh(process.execPath, [FATHOM_BIN, command ?? '', '--state-dir', this.stateDir, ...rest], { ...opts, env: { ...process.env, ...this.env } });
  }

  async mustFathom(args: readonly string[], opts: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<string> {
    const res = await this.fathom(args, opts);
    if (res.code !== 0) throw new Error(`fathom ${args.join(' ')} exited ${res.code}: ${res.stderr.trim()}`);
    return res.stdout;
  }

  async up(): Promise<string> {
    if (this.prometheusPort === 0) this.prometheusPort = await freePort();
    if (this.apiPort === 0) this.apiPort = await freePort();
    if (this.dashboardPort === 0) this.dashboardPort = await freePort();
    const ports = ['--prometheus-port', String(this.prometheusPort), '--api-port', String(this.apiPort), '--dashboard-port', String(this.dashboardPort)];
    return this.mustFathom(['up', '--tag', this.tag, '--pod-cidr', this.podCidr, '--service-cidr', this.serviceCidr, ...ports]);
  }

  /** `fathom down --purge` and removal of the temporary state directory; safe to call twice. */
  async down(): Promise<RunResult> {
    const res = await this.fathom(['down', '--purge']);
    rmSync(this.stateDir, { recursive: true, force: true });
    return res;
  }

  /** Every process in this instance's pod namespaces (supervisors, proxies, apps). */
  async podProcesses(): Promise<number[]> {
    const names = (await sh('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`${this.tag}-`));
    const pids: number[] = [];
    for (const name of names) pids.push(...(await sh('ip', ['netns', 'pids', name])).stdout.split(/\s+/).filter(Boolean).map(Number));
    return pids;
  }

  async pods(namespace: string): Promise<PodJson[]> {
    return (JSON.parse(await this.mustFathom(['get', 'pods', '-n', namespace, '-o', 'json'])) as { items: PodJson[] }).items;
  }

  /** Waits until the namespace has exactly `count` pods matching `app`, all Running with every container ready. */
  async readyPods(namespace: string, app: string, count: number, timeoutMs = 30_000): Promise<PodJson[]> {
    return waitFor(`${count} ready ${app} pods in ${namespace}`, async () => {
      const pods = (await this.pods(namespace)).filter((p) => p.metadata.labels['app'] === app);
      const ready = pods.filter((p) => p.status.phase === 'Running' && p.status.containerStatuses.every((c) => c.ready));
      if (pods.length === count && ready.length === count) return ready;
      const seen = pods.map((p) => `${p.metadata.name} ${p.status.phase} ${p.status.containerStatuses.map((c) => `${c.name}:${c.ready ? 'ready' : 'unready'}`).join(',')}`);
      throw new Error(`saw [${seen.join('; ')}]`);
    }, timeoutMs);
  }

  exec(pod: string, namespace: string, command: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
    return this.fathom(['exec', pod, '-n', namespace, '--', ...command], { timeoutMs });
  }

  async prometheusQuery(query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`http://127.0.0.1:${this.prometheusPort}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.data.result;
  }
}

export interface HostPicture {
  /** Namespaces, links, routes, iptables rules, /etc/netns entries, sysctls and processes of ours. */
  readonly own: Record<string, string>;
  /** What instances share (tables, /etc/netns, /run/fathom): comparable only when no other instance runs. */
  readonly shared: Record<string, string>;
  /** Another local-platform instance (a parallel test file) has objects on the host. */
  readonly othersPresent: boolean;
}

/** The host's network and process state, with other test instances' objects filtered out. */
export async function hostPicture(ownTag: string, stateDir: string): Promise<HostPicture> {
  const foreign = (line: string) => /fathom-t-/.test(line) || (line.match(/\bfte\d+/g) ?? []).some((tag) => tag !== ownTag);
  const lines = async (cmd: string, args: string[]) => (await sh(cmd, args)).stdout.split('\n').filter((l) => l.trim() !== '' && !foreign(l));
  const iptables = (await sh('iptables-save', [])).stdout;
  const tables: string[] = [];
  for (const block of iptables.split(/^\*/m).slice(1)) {
    const body = block.split('\n').filter((l) => l && !l.startsWith('#') && !foreign(l)).map((l) => l.replace(/\[\d+:\d+\]/, ''));
    // An empty table (built-in chains, no rules) reads the same as no table at all.
    if (body.some((l) => l.startsWith('-A ') || (l.startsWith(':') && !/^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) /.test(l)))) tables.push(body.join('\n'));
  }
  let etcNetns: string[] = [];
  try {
    etcNetns = readdirSync('/etc/netns').filter((n) => !foreign(n));
  } catch {
    // absent
  }
  const processes = (await sh('ps', ['-eo', 'pid,args'])).stdout.split('\n').filter((l) => l.includes(stateDir) && !l.includes(' ps -eo'));
  const sysctls = await sh('sysctl', ['net.ipv4.ip_forward', 'net.ipv4.conf.all.forwarding', 'net.ipv4.conf.default.forwarding', 'net.ipv4.conf.all.rp_filter']);
  const everything = (await sh('ip', ['netns', 'list'])).stdout + (await sh('ip', ['-br', 'link'])).stdout + iptables;
  const others = (everything.match(/\bfte\d+/g) ?? []).some((tag) => tag !== ownTag) || /FATHOM-[A-Z]+-(?!fte)/.test(iptables);
  const shared = {
    tables: (await sh('nft', ['list', 'tables'])).stdout,
    etcNetns: String(existsSync('/etc/netns')),
    runFathom: String(existsSync('/run/fathom')),
  };
  const own = {
    hostname: hostname(),
    netns: (await lines('ip', ['netns', 'list'])).join('\n'),
    links: (await lines('ip', ['-br', 'link'])).map((l) => l.split(/\s+/)[0]).join('\n'),
    routes: (await lines('ip', ['-4', 'route', 'show', 'table', 'all'])).join('\n'),
    iptables: tables.join('\n'),
    etcNetns: etcNetns.join('\n'),
    sysctls: sysctls.stdout,
    processes: processes.join('\n'),
  };
  return { own, shared, othersPresent: others };
}
