// The streams and environment a command runs with, so that commands run in tests without a process.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { errorCode, FathomError } from '../lib/errors.js';

export interface CommandIO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** stdout is a terminal: tables may use colour, reports may add spacing for readability. */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative file operands resolve against this directory. */
  readonly cwd: string;
}

/** The real process's streams. A closed stdout (`fathom inject x | head`) ends the process quietly. */
export function processIO(): CommandIO {
  process.stdout.on('error', (err) => {
    if (errorCode(err) === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stdout.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Colour only on a terminal, and never when the user asked for none (https://no-color.org). */
export function useColour(io: CommandIO): boolean {
  return io.isTTY && !io.env['NO_COLOR'] && io.env['TERM'] !== 'dumb';
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export interface Input {
  readonly text: string;
  /** How messages name the input: the path as the user gave it, or `stdin` for `-`. */
  readonly name: string;
}

/** Reads a FILE operand, `-` meaning stdin. Throws a FathomError (code EINPUT) naming the file. */
export async function readInput(file: string, io: CommandIO): Promise<Input> {
  if (file === '-') return { text: await readAll(io.stdin), name: 'stdin' };
  try {
    return { text: await readFile(resolve(io.cwd, file), 'utf8'), name: file };
  } catch (err) {
    const reason = errorCode(err) === 'ENOENT' ? 'no such file' : errorCode(err) === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new FathomError('EINPUT', `cannot read ${file}: ${reason}`, { cause: err });
  }
}

export interface MemoryIO {
  readonly io: CommandIO;
  stdout(): string;
  stderr(): string;
}

/** An in-memory CommandIO for tests: stdin holds `stdinText`, stdout and stderr are captured. */
export function memoryIO(stdinText = '', overrides: Partial<Pick<CommandIO, 'isTTY' | 'env' | 'cwd'>> = {}): MemoryIO {
  const capture = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  const out = capture();
  const err = capture();
  return {
    io: {
      stdin: Readable.from([Buffer.from(stdinText)]),
      stdout: out.stream,
      stderr: err.stream,
      isTTY: overrides.isTTY ?? false,
      env: overrides.env ?? {},
      cwd: overrides.cwd ?? process.cwd(),
    },
    stdout: out.text,
    stderr: err.text,
  };
}
