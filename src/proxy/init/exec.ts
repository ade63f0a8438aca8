// Runs the iptables tools for `init`. Injectable, so that tests drive `runInit` without root.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface ExecResult {
  /** Exit status; 127 when the command is not installed, 128+n when killed by signal n. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd args` to completion with `input` on stdin. Never rejects: failures are in the result. */
export type Exec = (cmd: string, args: readonly string[], input?: string) => Promise<ExecResult>;

/** The real runner: no shell, so arguments are passed exactly. */
export const runCommand: Exec = (cmd, args, input) =>
  new Promise((resolve) => {
    const child = spawn(cmd, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    // A command that exits without reading stdin would otherwise surface EPIPE here.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    child.on('error', (e: NodeJS.ErrnoException) => {
      const missing = e.code === 'ENOENT';
      resolve({ code: missing ? 127 : 126, stdout: '', stderr: missing ? `${cmd}: command not found` : e.message });
    });
    child.on('close', (code, signal) => {
      const status = code ?? 128 + (signal ? constants.signals[signal] : 0);
      resolve({ code: status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });

