// Opaque TCP forwarding: the connection's selector chooses the endpoint (once per connection), the proxy
// connects to it (plain, or mTLS to a meshed peer; to an opaque port through the peer's inbound port with a
// transport header first), replays the detection prefix, then bytes flow both ways with backpressure
// (pipe), half-close honoured, both connections counted.
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/log.js';
import type { EndpointTarget } from '../target/endpoint.js';
import type { Selector } from '../target/selector.js';
import { ALPN_TRANSPORT } from '../tls/context.js';
import type { IdentityStore } from '../tls/store.js';
import { connectEndpoint } from '../transport/connect-endpoint.js';
import type { ConnectionTracker } from '../transport/connections.js';
import { encodeTransportHeader } from '../transport/transport-header.js';

export interface TcpForwardContext {
  readonly tracker: ConnectionTracker;
  readonly connectTimeoutMs: number;
  /** Our identity, for mTLS to meshed endpoints (undefined in standalone mode). */
  readonly store: IdentityStore | undefined;
  readonly log: Logger;
}

export function forwardTcp(client: Socket, prefix: Buffer, selector: Selector, ctx: TcpForwardContext): void {
  selector.select((err, endpoint, claim) => {
    if (err || !endpoint) {
      ctx.log.debug('no endpoint for a tcp connection', { error: err?.code ?? 'EUNKNOWN' });
      claim?.cancel();
      // A reset tells the client the destination failed, as a direct connection would have.
      abort(client);
      return;
    }
    connectTo(client, prefix, endpoint, ctx, (ok) => {
      if (ok) claim?.done();
      else {
        claim?.markUnavailable();
        claim?.cancel();
      }
    });
  });
}

function connectTo(client: Socket, prefix: Buffer, endpoint: EndpointTarget, ctx: TcpForwardContext, connected: (ok: boolean) => void): void {
  const transport = endpoint.transport;
  const addr = transport?.addr ?? endpoint.addr;
  const options = { timeoutMs: ctx.connectTimeoutMs, store: ctx.store };
  connectEndpoint(addr, endpoint.tls, transport ? ALPN_TRANSPORT : undefined, options, (err, upstream) => {
    if (err || !upstream) {
      connected(false);
      ctx.log.debug('tcp connect failed', { target: endpoint.addrKey, error: err });
      abort(client);
      return;
    }
    connected(true);
    ctx.tracker.track(upstream, endpoint.connLabels);
    if (client.destroyed) {
      // The client left while we were connecting: splice would never see its close.
      upstream.destroy();
      return;
    }
    // Opaque transport: the header names the port inside the peer's pod, then the stream is the app's.
    if (transport) upstream.write(encodeTransportHeader({ port: transport.port }));
    if (prefix.length > 0) upstream.write(prefix);
    splice(client, upstream);
  });
}

/** Pipes a and b into each other; an error on either side tears both down. */
export function splice(a: Socket, b: Socket): void {
  const teardown = (err?: Error) => {
    if (err) {
      // Propagate an abortive close as a reset, a clean one as FIN.
      abort(a);
      abort(b);
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

/**
 * Closes abortively: a TCP reset where the socket is plain TCP, else (a TLS socket, whose handle cannot
 * reset) a plain destroy, which closes the connection underneath.
 */
export function abort(s: Socket): void {
  if (s.destroyed) return;
  if ((s as { encrypted?: boolean }).encrypted === true) s.destroy();
  else s.resetAndDestroy();
}
