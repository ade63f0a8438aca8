// One container of a pod, as its supervisor runs it: a process started with the container's command,
// args, env, working directory and user, its output appended to the container's log file, restarted
// with back-off when it exits (restartPolicy Always; init containers until they succeed), and its
// readiness probed while it runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { ContainerSpec } from './objects.js';
import type { ContainerStatus } from './pod-status.js';
import { readinessCheck, type Check } from './probes.js';

/** Restart back-off: 1 s doubling to 60 s; a container that ran 60 s starts again from 1 s. */
const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
const BACKOFF_RESET_AFTER_MS = 60_000;
/** Until a container is first ready it is probed often, so pods become ready fast. */
const PROBE_FAST_MS = 200;

export interface ContainerOptions {
  readonly logPath: string;
  readonly podIp: string;
  /** Init containers run until they exit 0; the others are restarted whatever their exit. */
  readonly runToCompletion: boolean;
  readonly onChange: () => void;
}

/** The program to execute: a path, or a name looked up in the container's own PATH. */
function executable(command: string, env: Record<string, string>): string | undefined {
  if (command.includes('/')) return existsSync(command) ? command : undefined;
  for (const dir of (env['PATH'] ?? '').split(':')) {
    const candidate = join(dir || '.', command);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export class Container {
  status: ContainerStatus;
  private child: ChildProcess | undefined;
  private stopping = false;
  private backoffMs = BACKOFF_START_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly check: Check | undefined;
  private readonly env: Record<string, string>;
  private readyWaiters: (() => void)[] = [];
  private exitWaiters: ((code: number) => void)[] = [];

  constructor(
    readonly spec: ContainerSpec,
    private readonly opts: ContainerOptions,
  ) {
    this.env = Object.fromEntries((spec.env ?? []).map((e) => [e.name, e.value ?? '']));
    this.check = readinessCheck(spec, opts.podIp, this.env);
    this.status = { name: spec.name, state: 'waiting', reason: 'ContainerCreating', ready: false, restartCount: 0 };
  }

  start(): void {
    if (this.stopping) return;
    const [command, ...rest] = [...(this.spec.command ?? []), ...(this.spec.args ?? [])];
    const program = command === undefined ? undefined : executable(command, this.env);
    if (program === undefined) {
      this.log(`fathom: cannot start container "${this.spec.name}": executable "${command ?? ''}" not found${command?.includes('/') ? '' : ' in $PATH'}`);
      this.exited(127, 'RunContainerError');
      return;
    }
    if (this.spec.workingDir && !existsSync(this.spec.workingDir)) {
      this.log(`fathom: cannot start container "${this.spec.name}": workingDir ${this.spec.workingDir} does not exist`);
      this.exited(126, 'CreateContainerError');
      return;
    }
    const user = this.spec.securityContext?.runAsUser;
    const group = this.spec.securityContext?.runAsGroup ?? user;
    const argv = user === undefined ? [program, ...rest] : ['/usr/bin/setpriv', `--reuid=${user}`, `--regid=${group}`, '--clear-groups', '--', program, ...rest];
    const fd = openSync(this.opts.logPath, 'a', 0o640);
    const startedAt = Date.now();
    try {
      this.child = spawn(argv[0]!, argv.slice(1), { cwd: this.spec.workingDir || '/', env: this.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    child.once('error', (err) => {
      this.log(`fathom: cannot start container "${this.spec.name}": ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (Date.now() - startedAt >= BACKOFF_RESET_AFTER_MS) this.backoffMs = BACKOFF_START_MS;
      this.exited(code ?? 128 + (signal ? constants.signals[signal] : 0), code === 0 ? 'Completed' : 'Error');
    });
    this.status = { name: this.spec.name, state: 'running', ready: false, restartCount: this.status.restartCount, pid: child.pid, startedAt: new Date(startedAt).toISOString(), ...this.lastExit() };
    this.opts.onChange();
    this.probe(Math.max(PROBE_FAST_MS, (this.spec.readinessProbe?.initialDelaySeconds ?? 0) * 1000));
  }

  /** Resolves once the container is ready (at once for one without a check, when it runs). */
  whenReady(): Promise<void> {
    if (this.status.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** For init containers: resolves once a run exits 0. */
  whenCompleted(): Promise<void> {
    return new Promise((resolve) => this.exitWaiters.push((code) => code === 0 && resolve()));
  }

  /** SIGTERM, then SIGKILL after the grace period; no restart afterwards. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.probeTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private lastExit(): { lastExitCode?: number } {
    return this.status.lastExitCode === undefined ? {} : { lastExitCode: this.status.lastExitCode };
  }

  private exited(code: number, reason: string): void {
    clearTimeout(this.probeTimer);
    for (const waiter of this.exitWaiters.splice(0)) waiter(code);
    const done = this.stopping || (this.opts.runToCompletion && code === 0);
    if (done) {
      this.status = { name: this.spec.name, state: 'terminated', reason, ready: false, restartCount: this.status.restartCount, lastExitCode: code };
      this.opts.onChange();
      return;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.status = { name: this.spec.name, state: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container (exit ${code})`, ready: false, restartCount: this.status.restartCount + 1, lastExitCode: code };
    this.opts.onChange();
    this.restartTimer = setTimeout(() => this.start(), delay);
  }

  /** Probes while running: fast until ready, then at the probe's period; failureThreshold misses unready it. */
  private probe(delayMs: number, misses = 0): void {
    this.probeTimer = setTimeout(async () => {
      if (this.status.state !== 'running' || this.stopping) return;
      const ok = this.check ? await this.check() : true;
      if (this.status.state !== 'running' || this.stopping) return;
      const threshold = this.spec.readinessProbe?.failureThreshold ?? 3;
      const ready = ok || (this.status.ready && misses + 1 < threshold);
      if (ready !== this.status.ready) {
        this.status = { ...this.status, ready };
        this.opts.onChange();
        if (ready) for (const waiter of this.readyWaiters.splice(0)) waiter();
      }
      const period = (this.spec.readinessProbe?.periodSeconds ?? 5) * 1000;
      this.probe(this.status.ready ? period : PROBE_FAST_MS, ok ? 0 : misses + 1);
    }, delayMs);
  }

  private log(line: string): void {
    try {
      const fd = openSync(this.opts.logPath, 'a', 0o640);
      writeSync(fd, `${line}\n`);
      closeSync(fd);
    } catch {
      // the pod is being removed
    }
  }
}
