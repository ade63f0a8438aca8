// The background processes `fathom up` starts (agent, controller, Prometheus): detached in their own
// session so they outlive the terminal, with a pid file and a log file in the state directory, and
// stopped only after checking that the pid still belongs to that daemon of this state directory.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode } from '../../lib/errors.js';
import { layout } from './layout.js';

export interface DaemonSpec {
  /** `agent`, `controller`, `prometheus`: names the pid and log files. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export function pidFile(stateDir: string, name: string): string {
  return join(layout(stateDir).run, `${name}.pid`);
}

export function logFile(stateDir: string, name: string): string {
  return join(layout(stateDir).logs, `${name}.log`);
}

/**
 * The daemon's pid when it runs: the pid file names a live process whose command line mentions this
 * state directory (so a reused pid is never taken for ours).
 */
export function daemonPid(stateDir: string, name: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(stateDir, name), 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && commandMentions(pid, stateDir) ? pid : undefined;
}

export function commandMentions(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(text));
  } catch {
    return false;
  }
}

/** Starts the daemon unless it already runs; returns its pid. */
export function startDaemon(stateDir: string, spec: DaemonSpec): number {
  const running = daemonPid(stateDir, spec.name);
  if (running) return running;
  const l = layout(stateDir);
  mkdirSync(l.run, { recursive: true, mode: 0o755 });
  mkdirSync(l.logs, { recursive: true, mode: 0o755 });
  const out = openSync(logFile(stateDir, spec.name), 'a', 0o644);
  try {
    const child = spawn(spec.command, [...spec.args], { detached: true, stdio: ['ignore', out, out], env: spec.env ?? process.env, cwd: '/' });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${spec.command}`);
    writeFileSync(pidFile(stateDir, spec.name), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the daemon is gone. */
export async function stopDaemon(stateDir: string, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = daemonPid(stateDir, name);
  rmSync(pidFile(stateDir, name), { force: true });
  if (pid === undefined) return false;
  await terminate(pid, stateDir, graceMs);
  return true;
}

/** Terminates a process that must still mention `marker` in its command line. */
export async function terminate(pid: number, marker: string, graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (commandMentions(pid, marker)) process.kill(pid, sig);
    } catch (err) {
      if (errorCode(err) !== 'ESRCH') throw err;
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (commandMentions(pid, marker) && Date.now() < deadline) await sleep(50);
  if (commandMentions(pid, marker)) {
    signal('SIGKILL');
    for (let i = 0; i < 40 && commandMentions(pid, marker); i++) await sleep(50);
  }
}
