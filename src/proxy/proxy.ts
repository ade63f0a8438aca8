// Wires the proxy together: the inbound, outbound and admin listeners over shared metrics, and the
// shutdown sequence (not ready → stop accepting → drain: GOAWAY on HTTP/2, idle HTTP/1 connections
// closed, requests in flight and TCP streams finish → exit when idle or at the grace deadline).
import { createServer, type Server, type Socket } from 'node:net';
import { formatSocketAddr, type SocketAddr } from '../lib/addr.js';
import { logger, type Logger } from '../lib/log.js';
import { startAdmin, type AdminServer } from './admin/server.js';
import type { ProxyConfig } from './config.js';
import type { Direction, DirectionContext } from './context.js';
import { Http1Proxy } from './http/http1.js';
import { Http1Pool } from './http/pool.js';
import { Http2Proxy } from './http2/http2.js';
import { clientSessionOptions } from './http2/limits.js';
import { Http2Pool } from './http2/pool.js';
import { acceptInbound } from './inbound/pipeline.js';
import { InboundTls } from './inbound/tls.js';
import { ProxyMetrics } from './metrics/registry.js';
import { LogicalServices } from './outbound/logical.js';
import { acceptOutbound } from './outbound/pipeline.js';
import { ConnectionTracker } from './transport/connections.js';
import { startMesh } from './mesh.js';
import { startTap, type Tap } from './tap/start.js';
import { PROXY_VERSION } from './version.js';

export interface RunningProxy {
  readonly inbound: SocketAddr;
  readonly outbound: SocketAddr;
  readonly admin: SocketAddr;
  /** The hub the exchanges report requests to, and the Tap server's address (with a control plane). */
  readonly tap: Tap;
  readonly metrics: ProxyMetrics;
  /** Graceful shutdown; resolves when every connection has finished or the grace period ended. */
  shutdown(): Promise<void>;
}

export async function startProxy(config: ProxyConfig, log: Logger = logger('proxy')): Promise<RunningProxy> {
  const metrics = new ProxyMetrics({ version: PROXY_VERSION });
  const tracker = new ConnectionTracker(metrics);
  const mesh = await startMesh(config, metrics, logger('identity'));
  const tap = await startTap(config, mesh, logger('tap'));
  let listening = false;
  // Ready once listening and, with a control plane, once the controller has certified our identity.
  const isReady = () => listening && (mesh === undefined || mesh.identity.isReady());

  const limits = { maxHeaderListSize: config.http2MaxHeaderListSize, maxConcurrentStreams: config.http2MaxConcurrentStreams };
  const context = (direction: Direction, connectTimeoutMs: number): DirectionContext => {
    const outbound = direction === 'outbound';
    // Only the outbound side opens mTLS: the inbound side's upstream is the app, over loopback.
    const store = outbound ? mesh?.store : undefined;
    const h1Pool = new Http1Pool({ idleTimeoutMs: config.poolIdleTimeoutMs, connectTimeoutMs, tracker, store });
    const h2Pool = new Http2Pool({
      connectTimeoutMs,
      idleTimeoutMs: config.poolIdleTimeoutMs,
      sessionOptions: clientSessionOptions(limits),
      tracker,
      log: logger(`${direction}-http2`),
      store,
    });
    return {
      direction,
      config,
      mesh,
      services: outbound && mesh ? new LogicalServices(mesh) : undefined,
      mtls: !outbound && mesh ? new InboundTls(mesh.store, logger('inbound-tls')) : undefined,
      metrics,
      tracker,
      connectTimeoutMs,
      log: logger(direction),
      http1: new Http1Proxy({
        metrics,
        log: logger(`${direction}-http1`),
        maxHeaderBytes: config.maxHeaderBytes,
        headersTimeoutMs: config.headersTimeoutMs,
        idleTimeoutMs: config.idleTimeoutMs,
        pool: h1Pool,
        // HTTP/1 to meshed peers rides their HTTP/2 sessions.
        h2Pool: outbound && mesh ? h2Pool : undefined,
        stripClientId: !outbound,
        tap: tap.hub,
      }),
      http2: new Http2Proxy({
        metrics,
        log: logger(`${direction}-http2`),
        maxHeaderBytes: config.maxHeaderBytes,
        idleTimeoutMs: config.idleTimeoutMs,
        limits,
        pool: h2Pool,
        h1Pool,
        inbound: !outbound,
        tap: tap.hub,
      }),
    };
  };
  const inboundCtx = context('inbound', config.inboundConnectTimeoutMs);
  const outboundCtx = context('outbound', config.outboundConnectTimeoutMs);

  const inbound = await listen(config.inboundAddr, (s) => acceptInbound(s, inboundCtx));
  const outbound = await listen(config.outboundAddr, (s) => acceptOutbound(s, outboundCtx));
  const admin: AdminServer = await startAdmin({
    host: config.adminAddr.host,
    port: config.adminAddr.port,
    metrics: { render: () => { tracker.flush(); return metrics.render(); } },
    isReady,
  });
  listening = true;
  const addrOf = (s: Server): SocketAddr => {
    const a = s.address();
    return typeof a === 'object' && a ? { host: a.address, port: a.port } : { host: '', port: 0 };
  };
  const running: RunningProxy = {
    inbound: addrOf(inbound),
    outbound: addrOf(outbound),
    admin: { host: config.adminAddr.host, port: admin.port },
    tap,
    metrics,
    async shutdown() {
      // 1. Not ready, so probes and load balancers stop sending new work here.
      listening = false;
      log.info('shutting down', { open_connections: tracker.openCount, grace_ms: config.shutdownGraceMs });
      // 2. Stop accepting: new connections are refused by the kernel from now on.
      inbound.close();
      outbound.close();
      // 3. Drain: HTTP/2 clients get GOAWAY, idle HTTP/1 connections close (busy ones after their
      //    response), upstream pools close as they empty; TCP streams run on.
      const directions = [inboundCtx, outboundCtx];
      for (const ctx of directions) {
        ctx.http1.drain();
        ctx.http2.drain();
      }
      const deadline = Date.now() + config.shutdownGraceMs;
      while (tracker.openCount > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        for (const ctx of directions) ctx.http1.drain();
      }
      // 4. Grace period over (or nothing left): whatever remains is cut.
      if (tracker.openCount > 0) log.info('grace period ended, closing remaining connections', { open_connections: tracker.openCount });
      for (const s of tracker.sockets()) s.destroy();
      for (const ctx of directions) {
        ctx.http1.destroy();
        ctx.http2.destroy();
      }
      outboundCtx.services?.close();
      await tap.close();
      mesh?.close();
      await admin.close();
    },
  };
  log.info('listening', {
    inbound: fmt(running.inbound),
    outbound: fmt(running.outbound),
    admin: fmt(running.admin),
    tap: running.tap.addr && fmt(running.tap.addr),
    mode: config.controllerAddr ? 'controller' : 'standalone',
  });
  return running;
}

function fmt(a: SocketAddr): string {
  return formatSocketAddr(a.host, a.port);
}

function listen(addr: SocketAddr, onConnection: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: a client's FIN must not close our write side (TCP half-close is forwarded).
    const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (socket) => {
      socket.on('error', () => {}); // every stage reports errors its own way; never crash on a peer's reset
      onConnection(socket);
    });
    server.once('error', (err) => reject(new Error(`cannot listen on ${fmt(addr)}: ${err.message}`)));
    server.listen({ host: addr.host, port: addr.port, backlog: 1024 }, () => resolve(server));
  });
}
