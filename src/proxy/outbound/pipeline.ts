// The outbound path, app → 4140, read top to bottom:
//   accept → original destination (SO_ORIGINAL_DST)
//   → discover: inside the discovery networks (with a control plane), GetProfile starts now, in parallel
//     with detection (discover.ts); elsewhere the endpoint is the original destination itself, in clear
//   → detect protocol (timeout → TCP); opaque ports, by configuration or by profile, skip it
//   ├─ HTTP/1 → per request: an endpoint from the selector (P2C over peak-EWMA for a logical service);
//   │           HTTP/1 over a pooled connection, or HTTP/2 over mTLS to a meshed peer (http/exchange.ts)
//   ├─ HTTP/2 → per stream: an endpoint from the selector; pooled sessions, h2c or mTLS (http2/http2.ts)
//   └─ else  → per connection: an endpoint from the selector; TCP, mTLS to a meshed peer, through its
//              inbound port with a transport header for opaque ports (tcp/forward.ts)
// Failures (no answer from discovery, no endpoints, no identity yet, connect or handshake errors) become
// responses in one place (http/errors.ts); TCP connections are closed.
import type { Socket } from 'node:net';
import type { DirectionContext } from '../context.js';
import { detectProtocol } from '../detect/detect.js';
import type { Labels } from '../metrics/registry.js';
import { FixedSelector, type Selector } from '../target/selector.js';
import { forwardTcp } from '../tcp/forward.js';
import { addrKey, resolveOriginalDst } from '../transport/target.js';
import { DiscoveredSelector } from './discover.js';
import { forwardEndpoint } from './endpoint.js';

/** The app's own connection to us: in clear over loopback (Linkerd's label), or standalone. */
const APP_CONNECTION_MESHED: Labels = { tls: 'no_identity', no_tls_reason: 'loopback' };
const APP_CONNECTION_STANDALONE: Labels = { tls: 'disabled' };
const NOTHING = Buffer.alloc(0);

export function acceptOutbound(socket: Socket, ctx: DirectionContext): void {
  let dst;
  try {
    dst = resolveOriginalDst(socket, ctx.config.outboundDefaultDst);
  } catch (err) {
    ctx.log.info('refused outbound connection', { peer: `${socket.remoteAddress}:${socket.remotePort}`, error: err });
    socket.destroy();
    return;
  }
  const { mesh, services } = ctx;
  const app = mesh ? APP_CONNECTION_MESHED : APP_CONNECTION_STANDALONE;
  ctx.tracker.track(socket, { direction: 'outbound', peer: 'src', target_addr: addrKey(dst), ...app });

  // Discover: only destinations inside the discovery networks are looked up.
  const discovered = mesh && services && mesh.discoverable(dst.host) ? new DiscoveredSelector(dst, { mesh, services, opaquePorts: ctx.config.opaquePorts }) : undefined;
  if (discovered) socket.once('close', () => discovered.release());
  const selector: Selector = discovered ?? new FixedSelector(forwardEndpoint(dst, mesh !== undefined));
  const opaquePort = ctx.config.opaquePorts.has(dst.port);
  const whenKnown = (then: (opaque: boolean) => void) => (discovered ? discovered.whenKnown(then) : then(opaquePort));
  const tcp = { tracker: ctx.tracker, connectTimeoutMs: ctx.connectTimeoutMs, store: mesh?.store, log: ctx.log };

  if (opaquePort) {
    whenKnown(() => forwardTcp(socket, NOTHING, selector, tcp));
    return;
  }
  // Detect, while discovery runs; a profile that says the port is opaque cuts detection short.
  const stopDetection = detectProtocol(socket, ctx.config.detectTimeoutMs, (err, detected) => {
    if (err || !detected) {
      socket.destroy();
      return;
    }
    if (detected.timedOut) ctx.log.debug('protocol detection timed out, forwarding as TCP', { target: addrKey(dst) });
    if (detected.protocol === 'http1' && detected.ended) {
      // The client half-closed inside its first request line: too little to parse, never forwarded raw.
      socket.end('HTTP/1.1 400 Bad Request\r\nfathom-proxy-error: incomplete request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    whenKnown((opaque) => {
      if (socket.destroyed) return;
      if (opaque || (detected.protocol !== 'http1' && detected.protocol !== 'h2')) forwardTcp(socket, detected.prefix, selector, tcp);
      else if (detected.protocol === 'http1') ctx.http1.serve(socket, detected.prefix, { selector });
      else ctx.http2.serve(socket, detected.prefix, { selector });
    });
  });
  discovered?.whenKnown((opaque) => {
    if (opaque) stopDetection();
  });
}
