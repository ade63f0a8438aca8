// Upgrade (WebSocket, h2c upgrade) and CONNECT requests: the request head is re-sent to the endpoint
// and from then on bytes flow raw both ways. The endpoint's answer (101, 200, or a refusal) reaches the
// client unchanged; its status line is read only to count the response.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../lib/log.js';
import type { HttpSeries } from '../metrics/registry.js';
import { splice } from '../tcp/forward.js';
import { connectWithTimeout } from '../transport/connect.js';
import { errorResponse } from './errors.js';
import { forwardableHeaders } from './headers.js';
import type { Http1Target } from './http1.js';
import type { ConnectionTracker } from '../transport/connections.js';

export interface TunnelOptions {
  readonly target: Http1Target;
  readonly series: HttpSeries;
  /** true for Upgrade, false for CONNECT. */
  readonly upgrade: boolean;
  readonly connectTimeoutMs: number;
  readonly tracker: ConnectionTracker;
  readonly log: Logger;
}

export function openTunnel(req: IncomingMessage, client: Socket, head: Buffer, opts: TunnelOptions): void {
  const start = performance.now();
  opts.series.request();
  client.pause();
  connectWithTimeout(opts.target.endpoint, opts.connectTimeoutMs, (err, upstream) => {
    if (err || !upstream) {
      const mapped = errorResponse(err);
      opts.series.response({ statusCode: mapped.status, latencyMs: performance.now() - start });
      client.end(`HTTP/1.1 ${mapped.status} ${mapped.status === 504 ? 'Gateway Timeout' : 'Bad Gateway'}\r\nfathom-proxy-error: ${mapped.reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    opts.tracker.track(upstream, opts.target.connLabels);
    const headers = opts.upgrade ? forwardableHeaders(req.rawHeaders, true) : forwardableHeaders(req.rawHeaders);
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    upstream.write(text + '\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.once('data', (chunk: Buffer) => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, 16));
      opts.series.response({ statusCode: status ? Number(status[1]) : 502, latencyMs: performance.now() - start });
    });
    splice(client, upstream);
  });
}
