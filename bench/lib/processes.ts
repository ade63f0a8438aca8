// Starting and stopping the benchmark's processes (backend, proxies): free loopback ports, readiness by
// TCP connect or HTTP probe, stderr kept for error messages, and a bounded stop (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** Every child still running, so an interrupted run can stop them (an nginx left behind keeps its port). */
const live = new Set<{ kill(signal?: NodeJS.Signals): boolean }>();

export function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
}

/** SIGKILLs every child still running (for an interrupted run; normal stops are graceful). */
export function killAll(): void {
  for (const p of live) p.kill('SIGKILL');
  live.clear();
}

export class Child {
  private stderr = '';
  private readonly exited: Promise<unknown>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8000);
    });
    this.exited = once(proc, 'exit');
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  logs(): string {
    return this.stderr;
  }

  /** SIGTERM (or `signal`), SIGKILL after `timeoutMs`; resolves when the process has exited. */
  async stop(timeoutMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function start(name: string, command: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  proc.on('error', () => {}); // reported through exit and the readiness wait
  track(proc);
  return new Child(name, proc);
}

/** Polls `check` every 25 ms until it returns true, the child exits, or the deadline passes. */
export async function waitUntil(child: Child, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!child.running) throw new Error(`${child.name} exited early: ${child.logs().trim().slice(-2000)}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${child.name} not ready after ${timeoutMs} ms: ${child.logs().trim().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
