// `fathom logs POD|deploy/NAME [-n NS] [-c CONTAINER] [-f] [--tail N]`: prints a container's output
// (the app container unless -c), and with -f follows it until the pod goes away or the user interrupts.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { FathomError } from '../../lib/errors.js';
import { openLocal, resolvePod, STATE_DIR_HELP } from '../../platform/local/client.js';
import { containerLogPath } from '../../platform/local/layout.js';
import { loadPods } from '../../platform/local/snapshot.js';
import { defineCommand, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';

export interface LogsArgs {
  readonly target: string;
  readonly namespace: string;
  readonly container: string | undefined;
  readonly follow: boolean;
  readonly tail: number | undefined;
  readonly stateDir: string | undefined;
  /** Stops following (tests); the process's SIGINT does it otherwise. */
  readonly signal?: AbortSignal;
}

const FOLLOW_POLL_MS = 200;

export async function run(args: LogsArgs, io: CommandIO): Promise<number> {
  const config = openLocal(args.stateDir, io);
  const { pod, chosenFrom } = resolvePod(config.stateDir, args.namespace, args.target);
  const r = pod.record;
  if (chosenFrom !== undefined && chosenFrom > 1) io.stderr.write(`Found ${chosenFrom} pods, using pod/${r.name}\n`);
  const names = [...r.initContainers, ...r.sidecars, ...r.containers].map((c) => c.name);
  const container = args.container ?? r.containers[0]?.name ?? '';
  if (!names.includes(container)) throw new FathomError('ENOTFOUND', `container "${container}" is not in pod ${r.name}; choose one of: ${names.join(', ')}`);
  const path = containerLogPath(config.stateDir, r.namespace, r.name, container);
  let offset = startOffset(path, args.tail);
  for (;;) {
    offset = copyFrom(path, offset, io);
    if (!args.follow || args.signal?.aborted) return EXIT_OK;
    const exists = loadPods(config.stateDir).some((p) => p.record.uid === r.uid);
    if (!exists) return EXIT_OK;
    await sleep(FOLLOW_POLL_MS, undefined, { signal: args.signal }).catch(() => undefined);
  }
}

/** Where to start so that the last `tail` lines are shown (all of it without --tail). */
function startOffset(path: string, tail: number | undefined): number {
  if (tail === undefined) return 0;
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return 0;
  }
  const window = Math.min(size, 1024 * 1024);
  const buf = Buffer.alloc(window);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, window, size - window);
  } finally {
    closeSync(fd);
  }
  let newlines = 0;
  for (let i = window - 2; i >= 0; i--) {
    if (buf[i] === 0x0a && ++newlines === tail) return size - window + i + 1;
  }
  return size - window;
}

/** Writes what the file holds past `offset`; returns the new offset. */
function copyFrom(path: string, offset: number, io: CommandIO): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return offset;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) return offset;
      io.stdout.write(Buffer.from(buf.subarray(0, n)));
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
}

function bind(operands: readonly string[], flags: FlagValues): LogsArgs {
  const tailText = stringFlag(flags, 'tail');
  const tail = tailText === undefined ? undefined : Number(tailText);
  if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw new UsageError(`invalid --tail "${tailText}": expected a number of lines`);
  return {
    target: operands[0] ?? '',
    namespace: stringFlag(flags, 'namespace') ?? 'default',
    container: stringFlag(flags, 'container'),
    follow: flags['follow'] === true,
    tail,
    stateDir: stringFlag(flags, 'stateDir'),
  };
}

export const command = defineCommand<LogsArgs>({
  name: 'logs',
  description: "Print a container's output (stdout and stderr, across restarts). Without -c, the pod's app container; the proxy is fathom-proxy.",
  examples: ['fathom logs deploy/web', 'fathom logs web-5c8f9d7b6d-x2x4k -c fathom-proxy -f'],
  operands: [{ name: 'pod', description: 'a pod name, or deploy/NAME for one of its pods' }],
  options: [
    { flags: '-n, --namespace <ns>', description: 'namespace (default "default")' },
    { flags: '-c, --container <name>', description: 'container (default the app container)' },
    { flags: '-f, --follow', description: 'keep printing new output until the pod is deleted' },
    { flags: '--tail <lines>', description: 'only the last lines' },
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
  ],
  bind,
  run,
});
