// `fathom top`: a live table of a resource's traffic built from tap (source, destination, method, path,
// count, best/worst/last latency, success rate), busiest first. On a terminal it redraws in place until q
// or Ctrl-C; otherwise it prints a plain snapshot every --interval, for scripts.
import { FathomError } from '../../lib/errors.js';
import { parseDuration } from '../../lib/duration.js';
import type { TapEventJson, TapLabelsJson } from '../../controller/tap/types.js';
import { defineCommand, EXIT_FAILURE, EXIT_OK, stringFlag, UsageError } from '../command.js';
import type { CommandIO } from '../io.js';
import { renderTable, type Column } from '../table.js';
import { bindFilters, FILTER_OPTIONS, stopSignal, tapStream, type TapFilters } from './tap.js';

export interface TopArgs extends TapFilters {
  /** How often a snapshot is printed without a terminal, ms. */
  readonly intervalMs: number;
}

export interface TopRow {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  count: number;
  successes: number;
  /** Microseconds from request start to response end. */
  best: number;
  worst: number;
  last: number;
}

/** Requests seen starting but not yet ending; past this, the oldest are forgotten. */
const MAX_PENDING = 10_000;
const TTY_REFRESH_MS = 1_000;
const DEFAULT_INTERVAL = '5s';

/** A side of a request as top names it: its pod, else its IP. */
function sideName(labels: TapLabelsJson, addr: string): string {
  if (labels.pod !== undefined) return labels.pod;
  return addr.startsWith('[') ? addr.slice(1, addr.indexOf(']')) : addr.slice(0, addr.lastIndexOf(':'));
}

/** Aggregates tap events into rows keyed by source, destination, method and path. */
export class TopTable {
  private readonly pending = new Map<string, { key: string; row: Omit<TopRow, 'count' | 'successes' | 'best' | 'worst' | 'last'>; status?: number }>();
  private readonly byKey = new Map<string, TopRow>();

  add(e: TapEventJson): void {
    // Ids are unique per proxy process; the tapped pod makes them unique across pods.
    const id = `${e.proxy_pod} ${e.id}`;
    if (e.type === 'req') {
      const row = { source: sideName(e.source_labels, e.source), destination: sideName(e.destination_labels, e.destination), method: e.method, path: e.path };
      this.pending.set(id, { key: JSON.stringify(row), row });
      if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      return;
    }
    const p = this.pending.get(id);
    if (!p) return; // its start was not seen (the stream began mid-request)
    if (e.type === 'rsp') {
      p.status = e.status;
      return;
    }
    this.pending.delete(id);
    const ok = e.grpc_status !== null ? e.grpc_status === 0 : e.reset_error === null && p.status !== undefined && p.status < 500;
    const latency = e.since_request_us;
    const r = this.byKey.get(p.key);
    if (!r) {
      this.byKey.set(p.key, { ...p.row, count: 1, successes: ok ? 1 : 0, best: latency, worst: latency, last: latency });
      return;
    }
    r.count++;
    if (ok) r.successes++;
    r.best = Math.min(r.best, latency);
    r.worst = Math.max(r.worst, latency);
    r.last = latency;
  }

  /** Busiest first; ties in a stable order. */
  rows(): TopRow[] {
    return [...this.byKey.values()].sort((a, b) => b.count - a.count || a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  }
}

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
