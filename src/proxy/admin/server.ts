// The proxy's admin HTTP server (port 4191): /metrics for Prometheus, /ready and /live for probes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzip } from 'node:zlib';
import { withContext } from '../../lib/errors.js';
import { PROM_TEXT_CONTENT_TYPE } from '../../lib/prom-text.js';

export interface AdminServer {
  readonly port: number;
  /** Stops listening and closes every connection, idle keep-alive ones included. */
  close(): Promise<void>;
}

export interface AdminOptions {
  host: string;
  port: number;
  metrics: { render(): string };
  isReady: () => boolean;
  log?: (msg: string) => void;
}

const TEXT = 'text/plain; charset=utf-8';

// Below this size gzip costs more CPU than the bytes it saves on a loopback or pod-network scrape.
const GZIP_MIN_BYTES = 1024;

export async function startAdmin(opts: AdminOptions): Promise<AdminServer> {
  const log = opts.log ?? (() => {});
  const server = createServer((req, res) => {
    try {
      route(req, res, opts, log);
    } catch (err) {
      // Nothing here should throw, but a probe endpoint that takes the proxy down would be worse than a 500.
      log(`admin: ${req.method ?? '?'} ${req.url ?? '?'} failed: ${(err as Error).message}`);
      if (!res.headersSent) reply(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    }
  });
  // Malformed requests get a 400 and a close instead of Node's default, which could throw on a dead socket.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code !== 'ECONNRESET' && socket.writable) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    } else {
      socket.destroy();
    }
  });
  // Scrapes and probes are tiny: a slow or idle client must not hold resources for Node's long defaults.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(withContext(`admin server: listening on ${opts.host}:${opts.port}`, err));
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log(`admin: server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  log(`admin: listening on ${opts.host}:${port}`);

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function route(req: IncomingMessage, res: ServerResponse, opts: AdminOptions, log: (msg: string) => void): void {
  // Request bodies are never used; reading them keeps keep-alive connections usable after a POST.
  req.on('error', () => {});
  req.resume();
  res.on('error', () => {});

  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    reply(res, 405, TEXT, 'method not allowed\n');
    return;
  }
  switch (pathOf(req.url)) {
    case '/metrics':
      return metrics(req, res, opts, log);
    case '/ready':
      if (ready(opts.isReady)) reply(res, 200, TEXT, 'ready\n');
      else reply(res, 503, TEXT, 'not ready\n');
      return;
    case '/live':
      return reply(res, 200, TEXT, 'live\n');
    default:
      return reply(res, 404, TEXT, 'not found\n');
  }
}

function metrics(req: IncomingMessage, res: ServerResponse, opts: AdminOptions, log: (msg: string) => void): void {
  let body: string;
  try {
    body = opts.metrics.render();
  } catch (err) {
    log(`admin: rendering metrics failed: ${(err as Error).message}`);
    reply(res, 500, TEXT, 'rendering metrics failed\n');
    return;
  }
  res.setHeader('Vary', 'Accept-Encoding');
  const raw = Buffer.from(body, 'utf8');
  if (raw.length < GZIP_MIN_BYTES || !acceptsGzip(req.headers['accept-encoding'])) {
    reply(res, 200, PROM_TEXT_CONTENT_TYPE, raw);
    return;
  }
  // Compressed on libuv's thread pool so a large exposition does not stall proxied traffic.
  gzip(raw, (err, zipped) => {
    if (res.destroyed) return;
    if (err) {
      log(`admin: gzip failed: ${err.message}`);
      reply(res, 200, PROM_TEXT_CONTENT_TYPE, raw);
      return;
    }
    res.setHeader('Content-Encoding', 'gzip');
    reply(res, 200, PROM_TEXT_CONTENT_TYPE, zipped);
  });
}

function reply(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', bytes.length);
  // Node leaves the body out for HEAD requests itself, keeping the headers (and length) of a GET.
  res.end(bytes);
}

function ready(isReady: () => boolean): boolean {
  try {
    return isReady();
  } catch {
    return false;
  }
}

/** The path of a request target, without query; absolute-form targets (`http://host/path`) are accepted. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  let path = url;
  if (!path.startsWith('/')) {
    const scheme = path.indexOf('://');
    if (scheme < 0) return path;
    const slash = path.indexOf('/', scheme + 3);
    path = slash < 0 ? '/' : path.slice(slash);
  }
  const end = path.search(/[?#]/);
  return end < 0 ? path : path.slice(0, end);
}

/** True when `gzip` is listed and not refused with q=0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}
