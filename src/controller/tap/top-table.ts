// top's aggregation of tap events into rows (source, destination, method, path, count, best/worst/last
// latency, successes), shared by `fathom top` and the dashboard's live top. Pure: no I/O, no Node APIs.
import type { TapEventJson, TapLabelsJson } from './types.js';

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

