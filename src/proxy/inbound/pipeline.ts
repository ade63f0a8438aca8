// The inbound path, peer → 4143, read top to bottom:
//   accept → original destination (the pod's ip:port; with a control plane, a direct connection to the
//            inbound port itself is allowed for opaque transport only)
//   → with a control plane: detect TLS — a ClientHello naming our identity → terminate mTLS and learn the
//     client's identity (tls.ts); ALPN transport.fathom.io/v1 → read the transport header → TCP (or the
//     HTTP session it announces) to the port it names; other TLS passes through as opaque TCP; plaintext
//     is served as from an unmeshed client. Only opaque transport may aim at our own listener (no loop).
//   → detect protocol on the (decrypted) stream (timeout → TCP; opaque ports skip it)
//   ├─ HTTP/1 → forward each request to 127.0.0.1:<port>, the app in this pod (pooled), fathom-client-id set
//   ├─ HTTP/2 → forward each stream to 127.0.0.1:<port> over pooled h2c sessions; streams a peer proxy
//   │           upgraded from HTTP/1 go to the app as HTTP/1 (http2/orig-proto.ts)
//   └─ else  → opaque TCP to 127.0.0.1:<port>
import type { Socket } from 'node:net';
import type { SocketAddr } from '../../lib/addr.js';
import type { DirectionContext } from '../context.js';
import { detectProtocol, type Detection } from '../detect/detect.js';
import type { Labels } from '../metrics/registry.js';
import { EndpointTarget } from '../target/endpoint.js';
import { FixedSelector } from '../target/selector.js';
import { forwardTcp } from '../tcp/forward.js';
import { ALPN_TRANSPORT } from '../tls/context.js';
import { addrKey, normalizeHost, resolveOriginalDst } from '../transport/target.js';
import { readTransportHeader } from './tls.js';

const APP_HOST = '127.0.0.1';
const NOTHING = Buffer.alloc(0);
// Linkerd's server-side TLS labels of accepted connections, and of ours to the app (over loopback).
const STANDALONE: Labels = { tls: 'disabled' };
const FROM_UNMESHED: Labels = { tls: 'no_identity', no_tls_reason: 'no_tls_from_remote' };
const LOOPBACK: Labels = { tls: 'no_identity', no_tls_reason: 'loopback' };

export function acceptInbound(socket: Socket, ctx: DirectionContext): void {
  let dst: SocketAddr;
  try {
    // With a control plane, a connection made straight to our listener (not redirected) is a peer's opaque
    // transport: its destination is our own address, and only mTLS with the transport ALPN may use it.
    const direct = ctx.mesh && socket.localAddress ? { host: normalizeHost(socket.localAddress), port: socket.localPort ?? 0 } : undefined;
    dst = resolveOriginalDst(socket, ctx.config.inboundDefaultDst ?? direct);
    if (dst.port === ctx.config.inboundAddr.port && !ctx.mesh) throw new Error(`destination port ${dst.port} is the proxy's inbound listener`);
  } catch (err) {
    refuse(socket, ctx, err);
    return;
  }
  if (ctx.mesh) acceptMeshed(socket, dst, ctx);
  else {
    ctx.tracker.track(socket, { direction: 'inbound', peer: 'src', target_addr: addrKey(dst), ...STANDALONE });
    if (ctx.config.opaquePorts.has(dst.port)) forwardTcp(socket, NOTHING, appSelector(dst, dst.port, STANDALONE, ctx), tcpContext(ctx));
    else detectThenServe(socket, dst, STANDALONE, undefined, ctx);
  }
}

function acceptMeshed(socket: Socket, dst: SocketAddr, ctx: DirectionContext): void {
  const { mesh, mtls } = ctx;
  const toSelf = dst.port === ctx.config.inboundAddr.port;
  if (!toSelf && ctx.config.opaquePorts.has(dst.port)) {
    // Meshed clients reach opaque ports through opaque transport; what arrives here directly is in clear.
    ctx.tracker.track(socket, { direction: 'inbound', peer: 'src', target_addr: addrKey(dst), ...FROM_UNMESHED });
    forwardTcp(socket, NOTHING, appSelector(dst, dst.port, FROM_UNMESHED, ctx), tcpContext(ctx));
    return;
  }
  detectProtocol(socket, ctx.config.detectTimeoutMs, (err, detected) => {
    if (err || !detected) {
      socket.destroy();
      return;
    }
    if (detected.protocol === 'tls' && detected.sni === mesh!.localIdentity && mtls) {
      mtls.terminate(socket, detected.prefix, (secure, clientId, alpn) => {
        const tls: Labels = { tls: 'true', client_id: clientId };
        if (alpn === ALPN_TRANSPORT) {
          acceptTransport(secure, dst, tls, clientId, ctx);
          return;
        }
        if (toSelf) {
          refuse(secure, ctx, new Error(`mTLS to the inbound listener without the ${ALPN_TRANSPORT} ALPN`));
          return;
        }
        ctx.tracker.track(secure, { direction: 'inbound', peer: 'src', target_addr: addrKey(dst), ...tls });
        detectThenServe(secure, dst, tls, clientId, ctx);
      });
      return;
    }
    if (toSelf) {
      refuse(socket, ctx, new Error(`destination port ${dst.port} is the proxy's inbound listener`));
      return;
    }
    if (detected.protocol === 'tls') {
      // TLS for another name (the app's own TLS): passed through untouched.
      const passthrough: Labels = { tls: 'opaque', sni: detected.sni ?? '' };
      ctx.tracker.track(socket, { direction: 'inbound', peer: 'src', target_addr: addrKey(dst), ...passthrough });
      forwardTcp(socket, detected.prefix, appSelector(dst, dst.port, passthrough, ctx), tcpContext(ctx));
      return;
    }
    ctx.tracker.track(socket, { direction: 'inbound', peer: 'src', target_addr: addrKey(dst), ...FROM_UNMESHED });
    serve(socket, detected, dst, FROM_UNMESHED, undefined, ctx);
  });
}

/**
 * Opaque transport: the header names the port inside this pod; the rest of the stream is the app's, as
 * opaque TCP, or HTTP when the header names a session protocol (HTTP to a pod whose port is opaque).
 */
function acceptTransport(secure: Socket, dst: SocketAddr, tls: Labels, clientId: string, ctx: DirectionContext): void {
  readTransportHeader(secure, ctx.config.detectTimeoutMs, (err, header, rest) => {
    if (err || !header || header.port === ctx.config.inboundAddr.port) {
      refuse(secure, ctx, new Error(err ?? `the transport header names port ${header?.port}, the proxy's inbound listener`));
      return;
    }
    const target = { host: dst.host, port: header.port };
    ctx.tracker.track(secure, { direction: 'inbound', peer: 'src', target_addr: addrKey(target), ...tls });
    const selector = appSelector(target, header.port, tls, ctx);
    if (header.sessionProtocol === 'http2') ctx.http2.serve(secure, rest ?? NOTHING, { selector, clientId, dst: target });
    else if (header.sessionProtocol === 'http1') ctx.http1.serve(secure, rest ?? NOTHING, { selector, clientId, dst: target });
    else forwardTcp(secure, rest ?? NOTHING, selector, tcpContext(ctx));
  });
}

function detectThenServe(socket: Socket, dst: SocketAddr, tls: Labels, clientId: string | undefined, ctx: DirectionContext): void {
  detectProtocol(socket, ctx.config.detectTimeoutMs, (err, detected) => {
    if (err || !detected) socket.destroy();
    else serve(socket, detected, dst, tls, clientId, ctx);
  });
}

function serve(socket: Socket, detected: Detection, dst: SocketAddr, tls: Labels, clientId: string | undefined, ctx: DirectionContext): void {
  if (detected.protocol === 'http1' && detected.ended) {
    // The client half-closed inside its first request line: too little to parse, never forwarded raw.
    socket.end('HTTP/1.1 400 Bad Request\r\nfathom-proxy-error: incomplete request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const selector = appSelector(dst, dst.port, tls, ctx);
  if (detected.protocol === 'http1') ctx.http1.serve(socket, detected.prefix, { selector, clientId, dst });
  else if (detected.protocol === 'h2') ctx.http2.serve(socket, detected.prefix, { selector, clientId, dst });
  else forwardTcp(socket, detected.prefix, selector, tcpContext(ctx));
}

/**
 * The app in this pod: the same port on loopback. The default destination (tests, development) names the
 * app's address itself. Requests are labelled with the original destination and the client's TLS status.
 */
function appSelector(dst: SocketAddr, port: number, tls: Labels, ctx: DirectionContext): FixedSelector {
  const defaultDst = ctx.config.inboundDefaultDst;
  const app: SocketAddr = defaultDst && dst === defaultDst ? dst : { host: APP_HOST, port };
  const appKey = addrKey(app);
  return new FixedSelector(
    new EndpointTarget({
      addr: app,
      addrKey: appKey,
      labels: { direction: 'inbound', target_addr: addrKey(dst), ...tls },
      connLabels: { direction: 'inbound', peer: 'dst', target_addr: appKey, ...(ctx.mesh ? LOOPBACK : STANDALONE) },
    }),
  );
}

function tcpContext(ctx: DirectionContext) {
  return { tracker: ctx.tracker, connectTimeoutMs: ctx.connectTimeoutMs, store: undefined, log: ctx.log };
}

function refuse(socket: Socket, ctx: DirectionContext, err: unknown): void {
  ctx.log.info('refused inbound connection', { peer: `${socket.remoteAddress}:${socket.remotePort}`, error: err as Error });
  socket.destroy();
}
