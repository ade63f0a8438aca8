// Transport metrics for one label set (tcp_open_total, tcp_close_total, tcp_open_connections,
// tcp_read_bytes_total, tcp_write_bytes_total) and the per-connection handle that feeds them.
import { familyHeader, joinPairs, labelPair, sampleLine } from '../../lib/prom-text.js';
import { formatSeriesLabels, type CachedSeries, type Labels } from './series-cache.js';

export interface TcpConnectionMetrics {
  /** Adds bytes read from the peer; call as data flows so long connections show progress. */
  read(bytes: number): void;
  /** Adds bytes written to the peer. */
  write(bytes: number): void;
  /** Counts the close once (later calls do nothing); `errno` is the socket error code, absent when clean. */
  close(errno?: string): void;
}

/** Labels this module adds itself; callers' labels of the same name are left out. */
const RESERVED: ReadonlySet<string> = new Set(['errno']);

export interface TcpOwner {
  now(): number;
  revive(series: TcpSeries): TcpSeries;
}

export class TcpSeries implements CachedSeries {
  evicted = false;
  updatedAt: number;
  opened = 0;
  open = 0;
  readBytes = 0;
  writeBytes = 0;
  /** errno ("" when clean) → closes, with the formatted tcp_close_total pairs. Few distinct errnos occur. */
  readonly closes = new Map<string, { pairs: string; count: number }>();
  readonly pairs: string;

  constructor(
    labels: Labels,
    readonly canonicalKey: string,
    readonly owner: TcpOwner,
  ) {
    this.pairs = formatSeriesLabels(labels, RESERVED);
    this.updatedAt = owner.now();
  }

  /** Byte counts do not touch the clock (they are the hottest path); an open connection keeps the series. */
  idle(): boolean {
    return this.open === 0;
  }

  connect(): TcpConnectionMetrics {
    this.opened++;
    this.open++;
    this.updatedAt = this.owner.now();
    return new TcpConnection(this);
  }

  countClose(errno: string): void {
    let entry = this.closes.get(errno);
    if (entry === undefined) {
      entry = { pairs: joinPairs(this.pairs, labelPair('errno', errno)), count: 0 };
      this.closes.set(errno, entry);
    }
    entry.count++;
    this.open--;
    this.updatedAt = this.owner.now();
  }
}

class TcpConnection implements TcpConnectionMetrics {
  private closed = false;

  constructor(private series: TcpSeries) {}

  read(bytes: number): void {
    this.live().readBytes += bytes;
  }

  write(bytes: number): void {
    this.live().writeBytes += bytes;
  }

  close(errno?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.live().countClose(errno ?? '');
  }

  /** A series is only dropped once closed and idle, so this matters only for bytes counted late. */
  private live(): TcpSeries {
    if (this.series.evicted) this.series = this.series.owner.revive(this.series);
    return this.series;
  }
}

const FAMILIES = {
  open: familyHeader('tcp_open_total', 'counter', 'Total count of opened connections.'),
  close: familyHeader('tcp_close_total', 'counter', 'Total count of closed connections.'),
  openNow: familyHeader('tcp_open_connections', 'gauge', 'Number of currently-open connections.'),
  read: familyHeader('tcp_read_bytes_total', 'counter', 'Total count of bytes read from peers.'),
  write: familyHeader('tcp_write_bytes_total', 'counter', 'Total count of bytes written to peers.'),
};

/** The transport families over all series, each family's samples together. */
export function renderTcp(series: readonly TcpSeries[]): string {
  if (series.length === 0) return '';
  let open = FAMILIES.open;
  let close = '';
  let openNow = FAMILIES.openNow;
  let read = FAMILIES.read;
  let write = FAMILIES.write;
  for (const s of series) {
    open += sampleLine('tcp_open_total', s.pairs, s.opened);
    for (const c of s.closes.values()) close += sampleLine('tcp_close_total', c.pairs, c.count);
    openNow += sampleLine('tcp_open_connections', s.pairs, s.open);
    read += sampleLine('tcp_read_bytes_total', s.pairs, s.readBytes);
    write += sampleLine('tcp_write_bytes_total', s.pairs, s.writeBytes);
  }
  return open + (close === '' ? '' : FAMILIES.close + close) + openNow + read + write;
}
