// Graceful shutdown of the real proxy process on SIGTERM, under load: /ready turns 503 first, new
// connections are refused, HTTP/2 clients get GOAWAY, idle HTTP/1 connections close, every request in
// flight (HTTP/1 and HTTP/2) completes untruncated, and the process exits within the grace period.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { startH2Backend, type H2Backend } from '../helpers/h2backend.js';
import { startProxyProcess, waitFor, type ProxyProcess } from '../helpers/proxy.js';

const BODY = 16 * 1024; // as Linkerd's shutdown test: responses of 16 KiB must arrive whole
const SLOW_MS = 1500;

interface Outcome {
  status: number;
  bytes: number;
  error?: string;
}

function h2get(session: ClientHttp2Session, path: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = session.request({ ':path': path }, { endStream: true });
    let status = 0;
    let bytes = 0;
    s.on('response', (h) => (status = Number(h[':status'])));
    s.on('data', (c: Buffer) => (bytes += c.length));
    s.on('error', (e: Error) => resolve({ status, bytes, error: e.message }));
    s.on('end', () => resolve({ status, bytes }));
  });
}

function h1get(port: number, agent: Agent, path: string): Promise<Outcome & { socket?: Socket }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, socket: req.socket ?? undefined }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, bytes, error: e.message }));
    });
    req.on('error', (e) => resolve({ status: 0, bytes: 0, error: e.message }));
    req.end();
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ port, host: '127.0.0.1' });
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('graceful shutdown on SIGTERM', { timeout: 60_000 }, () => {
  let h2backend: H2Backend;
  let h1backend: Server;
  let h1port: number;
  let h1received = 0;

  before(async () => {
    h2backend = await startH2Backend();
    h1backend = createServer((req, res) => {
      req.resume();
      if (req.url === '/quick') return void res.end('quick');
      h1received++;
      setTimeout(() => res.end(Buffer.alloc(BODY, 'h')), SLOW_MS);
    });
    h1backend.listen(0, '127.0.0.1');
    await once(h1backend, 'listening');
    h1port = (h1backend.address() as AddressInfo).port;
  });

  after(async () => {
    await h2backend?.close();
    h1backend?.closeAllConnections();
    h1backend?.close();
  });

  test('under load: not ready first, new connections refused, GOAWAY, nothing in flight lost, prompt exit', async () => {
    const graceMs = 10_000;
    const proxy: ProxyProcess = await startProxyProcess({
      FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${h2backend.port}`,
      FATHOM_PROXY_INBOUND_DEFAULT_DST: `127.0.0.1:${h1port}`,
      FATHOM_PROXY_SHUTDOWN_GRACE_PERIOD: `${graceMs}ms`,
    });
    // HTTP/2: 3 connections × 20 slow streams through the outbound listener, and one idle connection.
    const sessions = Array.from({ length: 4 }, () => h2connect(`http://127.0.0.1:${proxy.outboundPort}`));
    const goaways = sessions.map((s) => {
      s.on('error', () => {});
      return once(s, 'goaway').then(() => Date.now());
    });
    assert.equal((await h2get(sessions[3]!, '/warm-up')).status, 200);
    const h2inflight = sessions.slice(0, 3).flatMap((s) => Array.from({ length: 20 }, () => h2get(s, `/slow?ms=${SLOW_MS}&bytes=${BODY}`)));
    // HTTP/1: 20 slow requests through the inbound listener, and one idle keep-alive connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const h1inflight = Array.from({ length: 20 }, () => h1get(proxy.inboundPort, agent, '/slow'));
    const idleAgent = new Agent({ keepAlive: true });
    const idle = await h1get(proxy.inboundPort, idleAgent, '/quick');
    assert.equal(idle.status, 200);
    const idleClosed = once(idle.socket!, 'close').then(() => Date.now());

    await h2backend.arrived('/slow', 60);
    await waitFor(() => h1received >= 20, 5000, () => `20 HTTP/1 requests at the backend (got ${h1received})`);
    let completed = 0;
    for (const p of [...h2inflight, ...h1inflight]) void p.then(() => completed++);

    const exited = once(proxy.child, 'exit');
    const sigterm = Date.now();
    proxy.child.kill('SIGTERM');

    // 1. Not ready, while every request is still in flight.
    await waitFor(async () => (await fetch(`http://127.0.0.1:${proxy.adminPort}/ready`)).status === 503, 1000, () => '/ready to turn 503');
    assert.equal(completed, 0, 'readiness must turn false before in-flight requests finish');
    // 2. New connections are refused on both listeners.
    await waitFor(async () => (await refused(proxy.outboundPort)) && (await refused(proxy.inboundPort)), 1000, () => 'new connections to be refused');
    assert.equal(completed, 0);
    // 3. HTTP/2 clients get GOAWAY, idle HTTP/1 connections are closed, both promptly.
    for (const g of goaways) assert.ok((await g) - sigterm < 1000, 'GOAWAY within a second');
    assert.ok((await idleClosed) - sigterm < 1000, 'idle HTTP/1 connection closed within a second');

    // 4. Every request in flight completes, whole.
    const results = await Promise.all([...h2inflight, ...h1inflight]);
    const lost = results.filter((r) => r.status !== 200 || r.bytes !== BODY || r.error);
    assert.deepEqual(lost, [], `${lost.length} of ${results.length} in-flight requests were lost or truncated`);

    // 5. The process exits cleanly once drained, well within the grace period.
    const [code] = (await exited) as [number | null];
    const exitMs = Date.now() - sigterm;
    assert.equal(code, 0);
    assert.ok(exitMs < SLOW_MS + 2000, `exited ${exitMs}ms after SIGTERM (responses took ${SLOW_MS}ms)`);
    for (const s of sessions) s.destroy();
    agent.destroy();
    idleAgent.destroy();
  });

  test('the grace period bounds the wait: a request longer than it is cut and the process exits', async () => {
    const graceMs = 800;
    const proxy = await startProxyProcess({
      FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${h2backend.port}`,
      FATHOM_PROXY_SHUTDOWN_GRACE_PERIOD: `${graceMs}ms`,
    });
    const session = h2connect(`http://127.0.0.1:${proxy.outboundPort}`);
    session.on('error', () => {});
    const count = h2backend.streams.get('/slow') ?? 0;
    const slow = h2get(session, '/slow?ms=20000');
    await h2backend.arrived('/slow', count + 1);
    const exited = once(proxy.child, 'exit');
    const sigterm = Date.now();
    proxy.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    const exitMs = Date.now() - sigterm;
    assert.equal(code, 0);
    assert.ok(exitMs >= graceMs - 50 && exitMs < graceMs + 1000, `exited ${exitMs}ms after SIGTERM with a ${graceMs}ms grace period`);
    const outcome = await slow;
    assert.notEqual(outcome.status === 200 && outcome.bytes > 0 && !outcome.error, true, 'the long request cannot have completed');
    session.destroy();
  });
});
