// The inbound path, peer → 4143, read top to bottom:
//   accept → original destination (the pod's ip:port) → refuse loops to the proxy's own listener
//   → detect protocol (timeout → TCP; opaque ports skip it)
//   ├─ HTTP/1 → forward each request to 127.0.0.1:<port>, the app in this pod (pooled)
//   ├─ HTTP/2 → forward each stream to 127.0.0.1:<port> over pooled, multiplexed h2c sessions
//   └─ else  → opaque TCP to 127.0.0.1:<port>
// mTLS termination (SNI is mine → terminate, learn the client's identity) arrives with the control plane.
import type { Socket } from 'node:net';
import type { SocketAddr } from '../../lib/addr.js';
import type { DirectionContext } from '../context.js';
import { detectProtocol } from '../detect/detect.js';
import { forwardTcp } from '../tcp/forward.js';
import { addrKey, resolveOriginalDst } from '../transport/target.js';

const TLS_LABEL = 'disabled';
const APP_HOST = '127.0.0.1';

export function acceptInbound(socket: Socket, ctx: DirectionContext): void {
  let dst: SocketAddr;
  try {
    dst = resolveOriginalDst(socket, ctx.config.inboundDefaultDst);
    if (dst.port === ctx.config.inboundAddr.port) throw new Error(`destination port ${dst.port} is the proxy's inbound listener`);
  } catch (err) {
    ctx.log.info('refused inbound connection', { peer: `${socket.remoteAddress}:${socket.remotePort}`, error: err });
    socket.destroy();
    return;
  }
  // The default destination (tests, development) names the app's address itself; a redirected
  // connection goes to the same port on this pod's loopback.
  const endpoint: SocketAddr = ctx.config.inboundDefaultDst && dst === ctx.config.inboundDefaultDst ? dst : { host: APP_HOST, port: dst.port };
  const targetAddr = addrKey(dst);
  const endpointKey = addrKey(endpoint);
  ctx.tracker.track(socket, { direction: 'inbound', peer: 'src', target_addr: targetAddr, tls: TLS_LABEL });
  const dstLabels = { direction: 'inbound', peer: 'dst', target_addr: endpointKey, tls: TLS_LABEL };
  const tcp = { tracker: ctx.tracker, connectTimeoutMs: ctx.connectTimeoutMs, dstLabels, log: ctx.log };

  if (ctx.config.opaquePorts.has(dst.port)) {
    forwardTcp(socket, Buffer.alloc(0), endpoint, tcp);
    return;
  }
  detectProtocol(socket, ctx.config.detectTimeoutMs, (err, detected) => {
    if (err || !detected) {
      socket.destroy();
      return;
    }
    if (detected.protocol === 'http1' && detected.ended) {
      // The client half-closed inside its first request line: too little to parse, never forwarded raw.
      socket.end('HTTP/1.1 400 Bad Request\r\nfathom-proxy-error: incomplete request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (detected.protocol === 'http1') {
      ctx.http1.serve(socket, detected.prefix, {
        endpoint,
        endpointKey,
        labels: { direction: 'inbound', target_addr: targetAddr, tls: TLS_LABEL },
        connLabels: dstLabels,
      });
      return;
    }
    if (detected.protocol === 'h2') {
      ctx.http2.serve(socket, detected.prefix, {
        endpoint,
        endpointKey,
        labels: { direction: 'inbound', target_addr: targetAddr, tls: TLS_LABEL },
        connLabels: dstLabels,
      });
      return;
    }
    forwardTcp(socket, detected.prefix, endpoint, tcp);
  });
}
