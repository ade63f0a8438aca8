// Transport metrics for every connection the proxy accepts or opens: tcp_open/close and byte counters.
// Bytes are read from the socket's own counters when it closes and whenever metrics are scraped, so
// the data path pays nothing per chunk (HTTP sockets are consumed natively and emit no 'data' events).
import type { Socket } from 'node:net';
import type { Labels, ProxyMetrics, TcpConnectionMetrics } from '../metrics/registry.js';

interface Tracked {
  socket: Socket;
  metrics: TcpConnectionMetrics;
  read: number;
  written: number;
  errno: string | undefined;
}

export class ConnectionTracker {
  private readonly live = new Set<Tracked>();

  constructor(private readonly metrics: ProxyMetrics) {}

  /** Counts `socket` as open under `labels` until it closes. */
  track(socket: Socket, labels: Labels): void {
    const t: Tracked = { socket, metrics: this.metrics.tcpOpen(labels), read: 0, written: 0, errno: undefined };
    this.live.add(t);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      t.errno ??= err.code ?? 'EUNKNOWN';
    });
    socket.once('close', () => {
      sync(t);
      t.metrics.close(t.errno);
      this.live.delete(t);
    });
  }

  /** Brings byte counters of open connections up to date (called before each scrape). */
  flush(): void {
    for (const t of this.live) sync(t);
  }

  get openCount(): number {
    return this.live.size;
  }

  /** Every open socket (for shutdown). */
  sockets(): Socket[] {
    return [...this.live].map((t) => t.socket);
  }
}

function sync(t: Tracked): void {
  const read = t.socket.bytesRead;
  const written = t.socket.bytesWritten;
  if (read > t.read) t.metrics.read(read - t.read);
  if (written > t.written) t.metrics.write(written - t.written);
  t.read = read;
  t.written = written;
}
