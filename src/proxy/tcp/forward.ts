// Opaque TCP forwarding: bytes both ways with backpressure (pipe), half-close honoured, both
// connections counted. The detection prefix is replayed to the endpoint first.
import type { Socket } from 'node:net';
import type { SocketAddr } from '../../lib/addr.js';
import type { Logger } from '../../lib/log.js';
import type { Labels } from '../metrics/registry.js';
import type { ConnectionTracker } from '../transport/connections.js';
import { connectWithTimeout } from '../transport/connect.js';

export interface TcpForwardContext {
  readonly tracker: ConnectionTracker;
  readonly connectTimeoutMs: number;
  /** Labels for the connection the proxy opens (peer="dst"). */
  readonly dstLabels: Labels;
  readonly log: Logger;
}

export function forwardTcp(client: Socket, prefix: Buffer, target: SocketAddr, ctx: TcpForwardContext): void {
  connectWithTimeout(target, ctx.connectTimeoutMs, (err, upstream) => {
    if (err || !upstream) {
      ctx.log.debug('tcp connect failed', { target: `${target.host}:${target.port}`, error: err });
      // A reset tells the client the destination failed, as a direct connection would have.
      client.resetAndDestroy();
      return;
    }
    ctx.tracker.track(upstream, ctx.dstLabels);
    if (client.destroyed) {
      // The client left while we were connecting: splice would never see its close.
      upstream.destroy();
      return;
    }
    if (prefix.length > 0) upstream.write(prefix);
    splice(client, upstream);
  });
}

/** Pipes a and b into each other; an error on either side tears both down. */
export function splice(a: Socket, b: Socket): void {
  const teardown = (err?: Error) => {
    if (err) {
      // Propagate an abortive close as a reset, a clean one as FIN.
      if (!a.destroyed) a.resetAndDestroy();
      if (!b.destroyed) b.resetAndDestroy();
    }
  };
  a.on('error', teardown);
  b.on('error', teardown);
  // Once one side is closed nothing can flow back to it: close the other after it has delivered
  // everything already sent its way (an ended socket may still hold unflushed writes: wait for them).
  const closeAfterFlush = (s: Socket) => {
    if (s.destroyed) return;
    if (s.writableFinished) {
      s.destroy();
      return;
    }
    s.once('finish', () => s.destroy());
    if (!s.writableEnded) s.end();
  };
  a.on('close', () => closeAfterFlush(b));
  b.on('close', () => closeAfterFlush(a));
  a.pipe(b);
  b.pipe(a);
  a.resume();
}
