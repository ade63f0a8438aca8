// `fathom top`: a live table of a resource's traffic built from tap (source, destination, method, path,
// count, best/worst/last latency, success rate), busiest first. On a terminal it redraws in place until q
// or Ctrl-C; otherwise it prints a plain snapshot every --interval, for scripts.
import { FathomError } from '../../lib/errors.js';
import { parseDuration } from '../../lib/duration.js';
import { TopTable, type TopRow } from '../../controller/tap/top-table.js';
import { defineCommand, EXIT_FAILURE, EXIT_OK, stringFlag, UsageError } from '../command.js';
import type { CommandIO } from '../io.js';
import { renderTable, type Column } from '../table.js';
import { bindFilters, FILTER_OPTIONS, stopSignal, tapStream, type TapFilters } from './tap.js';

export interface TopArgs extends TapFilters {
  /** How often a snapshot is printed without a terminal, ms. */
  readonly intervalMs: number;
}

const TTY_REFRESH_MS = 1_000;
const DEFAULT_INTERVAL = '5s';

/** Latencies as Linkerd's top shows them: whole µs below 1 ms, whole ms below 1 s, then seconds. */
export function formatLatency(us: number): string {
  if (us < 1000) return `${Math.round(us)}µs`;
  const ms = Math.round(us / 1000);
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(3))}s`;
}

export const TOP_COLUMNS: readonly Column<TopRow>[] = [
  { header: 'Source', value: (r) => r.source },
  { header: 'Destination', value: (r) => r.destination },
  { header: 'Method', value: (r) => r.method },
  { header: 'Path', value: (r) => r.path },
  { header: 'Count', value: (r) => String(r.count), align: 'right' },
  { header: 'Best', value: (r) => formatLatency(r.best), align: 'right' },
  { header: 'Worst', value: (r) => formatLatency(r.worst), align: 'right' },
  { header: 'Last', value: (r) => formatLatency(r.last), align: 'right' },
  { header: 'Success Rate', value: (r) => `${((r.successes / r.count) * 100).toFixed(2)}%`, align: 'right', colour: (r) => (r.successes / r.count < 0.95 ? 'red' : undefined) },
];

// Terminal control: the alternate screen keeps the user's scrollback; the cursor hides while we draw.
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME_CLEAR = '\x1b[H\x1b[2J';

interface RawInput {
  setRawMode(raw: boolean): void;
}

/**
 * On a terminal: redraw every second, as many rows as fit, with the latest pod failure under the hint;
 * q or Ctrl-C (a byte in raw mode) stops; the terminal is restored.
 */
function screen(io: CommandIO, table: TopTable, stop: () => void, lastError: () => string | undefined): () => void {
  const input = io.stdin as unknown as Partial<RawInput> & NodeJS.ReadableStream;
  const raw = typeof input.setRawMode === 'function' && (io.stdin as { isTTY?: boolean }).isTTY === true;
  const onKey = (data: Buffer) => {
    if (data.includes(0x71) || data.includes(0x51) || data.includes(0x03)) stop(); // q, Q, Ctrl-C
  };
  if (raw) {
    input.setRawMode!(true);
    input.on('data', onKey);
    input.resume();
  }
  const draw = () => {
    const height = (io.stdout as { rows?: number }).rows;
    const rows = table.rows();
    const error = lastError();
    const shown = height === undefined ? rows : rows.slice(0, Math.max(1, height - (error ? 5 : 4)));
    io.stdout.write(`${HOME_CLEAR}(press q to quit)\n${error ? `${error}\n` : ''}\n${renderTable(TOP_COLUMNS, shown, { colour: true })}`);
  };
  io.stdout.write(ENTER);
  draw();
  const timer = setInterval(draw, TTY_REFRESH_MS);
  return () => {
    clearInterval(timer);
    if (raw) {
      input.removeListener('data', onKey);
      input.setRawMode!(false);
      input.pause();
    }
    io.stdout.write(LEAVE);
  };
}

export async function run(args: TopArgs, io: CommandIO): Promise<number> {
  const stop = stopSignal(args, io);
  const abort = new AbortController();
  const quit = () => abort.abort();
  stop.signal.addEventListener('abort', quit, { once: true });
  const table = new TopTable();
  const snapshot = () => io.stdout.write(renderTable(TOP_COLUMNS, table.rows()) + '\n');
  let lastError: string | undefined;
  const restore = io.isTTY ? screen(io, table, quit, () => lastError) : undefined;
  const timer = io.isTTY ? undefined : setInterval(snapshot, args.intervalMs);
  let failure: unknown;
  try {
    for await (const line of tapStream(args, io, abort.signal)) {
      if (line.type === 'error') {
        // On a terminal, stderr would scroll the table away: the screen shows it instead.
        if (io.isTTY) lastError = line.message;
        else io.stderr.write(`fathom top: ${line.message}\n`);
      } else table.add(line);
    }
  } catch (err) {
    failure = err;
  } finally {
    clearInterval(timer);
    restore?.();
    stop.dispose();
  }
  if (failure !== undefined) throw failure instanceof Error ? failure : new FathomError('EAPI', String(failure));
  // The last state, for a script that stopped us; a terminal user saw it already.
  if (!io.isTTY) snapshot();
  return abort.signal.aborted ? EXIT_OK : EXIT_FAILURE;
}

export const command = defineCommand<TopArgs>({
  name: 'top',
  description:
    "A live table of a resource's requests, from tap: per source, destination, method and path, the count, best, worst and last " +
    'latency and the success rate, busiest first. On a terminal it redraws every second (q or Ctrl-C quits); otherwise it prints ' +
    'the table every --interval.',
  examples: ['fathom top deploy/web -n nodevoto', 'fathom top deploy -n nodevoto --interval 2s | head -20'],
  operands: [
    { name: 'resource', description: 'deploy, pod, ns or svc, optionally /NAME' },
    { name: 'name', description: 'the name, as an alternative to RESOURCE/NAME', optional: true },
  ],
  options: [...FILTER_OPTIONS, { flags: '--interval <duration>', description: `without a terminal, how often to print the table (default: ${DEFAULT_INTERVAL})` }],
  bind: (operands, flags) => {
    const interval = parseDuration(stringFlag(flags, 'interval') ?? DEFAULT_INTERVAL);
    if (typeof interval === 'string' || interval < 100) throw new UsageError(`--interval: ${typeof interval === 'string' ? interval : 'at least 100ms'}`);
    return { ...bindFilters(operands, flags), intervalMs: interval };
  },
  run,
});
