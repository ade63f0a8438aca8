// The outbound path, app → 4140, read top to bottom:
//   accept → original destination (SO_ORIGINAL_DST) → detect protocol (timeout → TCP; opaque ports skip it)
//   ├─ HTTP/1 → forward each request to the destination over a pooled connection (http/http1.ts)
//   ├─ HTTP/2 → forward each stream to the destination over pooled, multiplexed h2c sessions (http2/http2.ts)
//   └─ else  → opaque TCP to the destination (tcp/forward.ts)
// In standalone mode the endpoint is the original destination itself; discovery, balancing and mTLS
// come with the control plane.
import type { Socket } from 'node:net';
import type { DirectionContext } from '../context.js';
import { detectProtocol } from '../detect/detect.js';
import { forwardTcp } from '../tcp/forward.js';
import { addrKey, resolveOriginalDst } from '../transport/target.js';

const TLS_LABEL = 'disabled';

export function acceptOutbound(socket: Socket, ctx: DirectionContext): void {
  let dst;
  try {
    dst = resolveOriginalDst(socket, ctx.config.outboundDefaultDst);
  } catch (err) {
    ctx.log.info('refused outbound connection', { peer: `${socket.remoteAddress}:${socket.remotePort}`, error: err });
    socket.destroy();
    return;
  }
  const targetAddr = addrKey(dst);
  ctx.tracker.track(socket, { direction: 'outbound', peer: 'src', target_addr: targetAddr, tls: TLS_LABEL });
  const dstLabels = { direction: 'outbound', peer: 'dst', target_addr: targetAddr, tls: TLS_LABEL };
  const tcp = { tracker: ctx.tracker, connectTimeoutMs: ctx.connectTimeoutMs, dstLabels, log: ctx.log };

  if (ctx.config.opaquePorts.has(dst.port)) {
    forwardTcp(socket, Buffer.alloc(0), dst, tcp);
    return;
  }
  detectProtocol(socket, ctx.config.detectTimeoutMs, (err, detected) => {
    if (err || !detected) {
      socket.destroy();
      return;
    }
    if (detected.timedOut) ctx.log.debug('protocol detection timed out, forwarding as TCP', { target: targetAddr });
    if (detected.protocol === 'http1' && detected.ended) {
      // The client half-closed inside its first request line: too little to parse, never forwarded raw.
      socket.end('HTTP/1.1 400 Bad Request\r\nfathom-proxy-error: incomplete request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (detected.protocol === 'http1') {
      ctx.http1.serve(socket, detected.prefix, {
        endpoint: dst,
        endpointKey: targetAddr,
        labels: { direction: 'outbound', target_addr: targetAddr, tls: TLS_LABEL },
        connLabels: dstLabels,
      });
      return;
    }
    if (detected.protocol === 'h2') {
      ctx.http2.serve(socket, detected.prefix, {
        endpoint: dst,
        endpointKey: targetAddr,
        labels: { direction: 'outbound', target_addr: targetAddr, tls: TLS_LABEL },
        connLabels: dstLabels,
      });
      return;
    }
    forwardTcp(socket, detected.prefix, dst, tcp);
  });
}
