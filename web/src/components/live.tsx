// Live traffic of a resource from tap: the top table (paths by count, best/worst/last latency, success)
// and the newest requests, with filters (method, path prefix, destination), pause and resume. One tap
// stream feeds both; changing a filter starts a new one.
import { useEffect, useRef, useState } from 'preact/hooks';
import { TopTable, type TopRow } from '../../../src/controller/tap/top-table.js';
import type { TapEventJson, TapRequestEvent } from '../../../src/controller/tap/types.js';
import { tapStream } from '../api.js';
import { micros } from '../format.js';
import { Table } from './table.js';

/** Requests shown in the tap list, newest first. */
const TAP_ROWS = 100;
/** Rows of top shown (the busiest). */
const TOP_ROWS = 30;
const REDRAW_MS = 1_000;

interface TapRow {
  readonly key: string;
  readonly at: number;
  readonly direction: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly source: string;
  readonly destination: string;
  readonly tls: string;
  status?: number;
  grpc?: number | null;
  latencyUs?: number;
  done: boolean;
  ok?: boolean;
}

export interface Filters {
  method: string;
  path: string;
  to: string;
}

const side = (labels: Readonly<Record<string, string>>, addr: string) => labels['pod'] ?? addr;

export function Live(props: { kind: 'deployment' | 'pod'; namespace: string; name: string }) {
  const [filters, setFilters] = useState<Filters>({ method: '', path: '', to: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  const [paused, setPaused] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [, redraw] = useState(0);
  const top = useRef(new TopTable());
  const tap = useRef<TapRow[]>([]);
  const open = useRef(new Map<string, TapRow>());

  useEffect(() => {
    top.current = new TopTable();
    tap.current = [];
    open.current.clear();
    setError(undefined);
    // Show the emptied lists now, not at the next redraw.
    redraw((n) => n + 1);
    if (paused) return;
    const abort = new AbortController();
    const params = {
      resource: `${props.kind}/${props.name}`,
      namespace: props.namespace,
      method: filters.method || undefined,
      path: filters.path || undefined,
      to: filters.to ? (filters.to.includes('/') ? filters.to : `deploy/${filters.to}`) : undefined,
    };
    const onLine = (line: Parameters<Parameters<typeof tapStream>[1]>[0]) => {
      if (line.type === 'error') return setError(`${line.proxy_pod}: ${line.message}`);
      record(line);
    };
    const record = (e: TapEventJson) => {
      top.current.add(e);
      const id = `${e.proxy_pod} ${e.id}`;
      if (e.type === 'req') {
        const row = requestRow(id, e);
        open.current.set(id, row);
        tap.current.unshift(row);
        if (tap.current.length > TAP_ROWS) for (const old of tap.current.splice(TAP_ROWS)) open.current.delete(old.key);
        return;
      }
      const row = open.current.get(id);
      if (!row) return;
      if (e.type === 'rsp') {
        row.status = e.status;
        row.latencyUs = e.latency_us;
      } else {
        row.done = true;
        row.grpc = e.grpc_status;
        row.latencyUs = e.since_request_us;
        row.ok = e.grpc_status !== null ? e.grpc_status === 0 : e.reset_error === null && row.status !== undefined && row.status < 500;
        open.current.delete(id);
      }
    };
    // Reconnects after a dropped stream (a controller restart), not after a refusal.
    const run = async () => {
      while (!abort.signal.aborted) {
        try {
          await tapStream(params, onLine, abort.signal);
        } catch (err) {
          if (abort.signal.aborted) return;
          setError((err as Error).message);
          if (/parameter|no pods|not found/i.test((err as Error).message)) return;
        }
        await new Promise((r) => setTimeout(r, 2_000));
      }
    };
    void run();
    const timer = setInterval(() => redraw((n) => n + 1), REDRAW_MS);
    return () => {
      abort.abort();
      clearInterval(timer);
    };
  }, [props.kind, props.namespace, props.name, filters, paused]);

  const topRows = top.current.rows();
  return (
    <div class="live">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <label>
          Method <input name="method" value={draft.method} placeholder="GET" size={6} onInput={(e) => setDraft({ ...draft, method: e.currentTarget.value.trim().toUpperCase() })} />
        </label>
        <label>
          Path prefix <input name="path" value={draft.path} placeholder="/api" size={18} onInput={(e) => setDraft({ ...draft, path: e.currentTarget.value.trim() })} />
        </label>
        <label>
          To <input name="to" value={draft.to} placeholder="deploy/voting" size={16} onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value.trim() })} />
        </label>
        <button type="submit">Apply</button>
        <button type="button" class={paused ? 'resume' : 'pause'} onClick={() => setPaused(!paused)} data-testid="tap-pause">
          {paused ? '▶ Resume' : '❚❚ Pause'}
        </button>
        <span class={`fresh ${paused ? 'stale' : 'live'}`}>{paused ? 'paused' : 'streaming'}</span>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <h3>Top <span class="unit">busiest {TOP_ROWS} of {topRows.length}</span></h3>
      <div class="scroll">
      <Table<TopRow>
        testId="top"
        columns={[
          { key: 'source', header: 'Source', cell: (r) => r.source, sort: (r) => r.source },
          { key: 'destination', header: 'Destination', cell: (r) => r.destination, sort: (r) => r.destination },
          { key: 'method', header: 'Method', cell: (r) => r.method, sort: (r) => r.method },
          { key: 'path', header: 'Path', cell: (r) => <code class="clip" title={r.path}>{r.path}</code>, sort: (r) => r.path },
          { key: 'count', header: 'Count', numeric: true, cell: (r) => r.count, sort: (r) => r.count },
          { key: 'best', header: 'Best', numeric: true, cell: (r) => micros(r.best), sort: (r) => r.best },
          { key: 'worst', header: 'Worst', numeric: true, cell: (r) => micros(r.worst), sort: (r) => r.worst },
          { key: 'last', header: 'Last', numeric: true, cell: (r) => micros(r.last), sort: (r) => r.last },
          { key: 'success', header: 'Success', numeric: true, cell: (r) => `${((r.successes / r.count) * 100).toFixed(2)}%`, sort: (r) => r.successes / r.count, className: (r) => (r.successes / r.count < 0.95 ? 'bad' : 'good') },
        ]}
        rows={topRows.slice(0, TOP_ROWS)}
        rowKey={(r) => `${r.source} ${r.destination} ${r.method} ${r.path}`}
        empty={paused ? 'paused' : 'waiting for requests…'}
        initialSort="count"
        initialDesc
      />
      </div>
      <h3>Tap <span class="unit">newest first, last {TAP_ROWS}</span></h3>
      <div class="scroll">
      <Table<TapRow>
        testId="tap"
        columns={[
          { key: 'at', header: 'Time', cell: (r) => new Date(r.at).toLocaleTimeString() },
          { key: 'dir', header: 'Dir', cell: (r) => (r.direction === 'inbound' ? 'in' : 'out') },
          { key: 'from', header: 'From', cell: (r) => r.source },
          { key: 'to', header: 'To', cell: (r) => r.destination },
          { key: 'method', header: 'Method', cell: (r) => r.method },
          { key: 'path', header: 'Path', cell: (r) => <code class="clip" title={`${r.authority}${r.path}`}>{r.authority}{r.path}</code> },
          { key: 'tls', header: 'mTLS', cell: (r) => (r.tls === 'true' ? <span class="badge secured">secured</span> : <span class="badge plain">{r.tls || 'no'}</span>) },
          { key: 'status', header: 'Status', numeric: true, cell: (r) => (r.status === undefined ? '…' : r.grpc !== undefined && r.grpc !== null ? `${r.status} / grpc ${r.grpc}` : r.status), className: (r) => (r.ok === false ? 'bad' : '') },
          { key: 'latency', header: 'Latency', numeric: true, cell: (r) => (r.latencyUs === undefined ? '…' : micros(r.latencyUs)) },
        ]}
        rows={tap.current}
        rowKey={(r) => r.key}
        empty={paused ? 'paused' : 'waiting for requests…'}
      />
      </div>
    </div>
  );
}

function requestRow(key: string, e: TapRequestEvent): TapRow {
  return {
    key,
    at: Date.now(),
    direction: e.direction,
    method: e.method,
    authority: e.authority,
    path: e.path,
    source: side(e.source_labels, e.source),
    destination: side(e.destination_labels, e.destination),
    tls: e.tls,
    done: false,
  };
}
