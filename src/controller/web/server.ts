// The web dashboard's server: the built front end (dist/web, made by scripts/build-web.mjs at setup) and,
// on the same origin, the metrics and tap APIs. Every path that is not an API or an asset answers with
// the front end's page, so that each view's URL loads directly. Only loopback Host names are accepted:
// a page on another site must not reach the API through DNS rebinding.
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';
import { FathomError } from '../../lib/errors.js';
import type { ApiHandler } from '../metrics-api/server.js';

/** dist/src/controller/web/ → dist/web/. */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  /** Names with a content hash never change: browsers may keep them. */
  readonly immutable: boolean;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // Everything comes from the dashboard itself; nothing reaches another origin.
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
} as const;

/** Names scripts/build-web.mjs gives its outputs: esbuild's `[name]-[hash]`. */
const HASHED = /-[0-9A-Z]{8}\.\w+$/;

/** Every file below `root`, keyed by its URL path; read once, served from memory. */
export function loadAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(root, 'index.html'))) return assets;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const url = '/' + relative(root, path).split(sep).join('/');
        assets.set(url, { type: TYPES[extname(name)] ?? 'application/octet-stream', body: readFileSync(path), immutable: HASHED.test(name) });
      }
    }
  };
  walk(root);
  return assets;
}

/** Host names a browser on this machine uses for a loopback listener. */
function loopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d+))?$/i.exec(host);
  if (!m) return false;
  if (m[2] !== undefined && Number(m[2]) !== port) return false;
  const name = m[1]!.toLowerCase();
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

export interface DashboardOptions {
  /** The APIs, in the order they are asked (tap, then the metrics API, which 404s other /api/ paths). */
  readonly apis: readonly ApiHandler[];
  readonly webRoot?: string;
}

export class DashboardServer {
  private constructor(
    readonly port: number,
    private readonly server: Server,
  ) {}

  static async listen(addr: SocketAddr, opts: DashboardOptions): Promise<DashboardServer> {
    const assets = new AssetCache(opts.webRoot ?? WEB_ROOT);
    let port = 0;
    const server = createServer((req, res) => {
      if (!loopbackHost(req.headers.host, port) && !isListenAddress(req.headers.host, addr, port)) {
        return plain(res, 403, `the dashboard answers only to its own address (http://${formatSocketAddr(addr.host, port)}), not to Host "${req.headers.host ?? ''}"\n`);
      }
      const path = (req.url ?? '/').split('?')[0]!;
      if (path.startsWith('/api/')) {
        if (opts.apis.some((api) => api.handle(req, res))) return;
        return plain(res, 404, `no such endpoint: ${path}\n`);
      }
      serveAsset(req, res, path, assets.current(path));
    });
    server.keepAliveTimeout = 5_000;
    server.listen(addr.port, addr.host);
    try {
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
    } catch (err) {
      throw new FathomError('EDASHBOARDLISTEN', `cannot listen on ${formatSocketAddr(addr.host, addr.port)} for the dashboard: ${(err as Error).message}`, { cause: err });
    }
    port = (server.address() as AddressInfo).port;
    return new DashboardServer(port, server);
  }

  async close(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }
}

/**
 * The built front end, re-read when a page is asked for after a rebuild (index.html changed), so that
 * `npm run setup` while the mesh runs serves the new build on the next reload. Hashed assets never
 * change under their names, so a stat of index.html per page load is all it costs.
 */
class AssetCache {
  private assets: Map<string, Asset>;
  private stamp: number;

  constructor(private readonly root: string) {
    this.stamp = this.indexTime();
    this.assets = loadAssets(root);
  }

  current(path: string): ReadonlyMap<string, Asset> {
    if (this.assets.has(path) && path !== '/index.html') return this.assets;
    const stamp = this.indexTime();
    if (stamp !== this.stamp) {
      this.stamp = stamp;
      this.assets = loadAssets(this.root);
    }
    return this.assets;
  }

  private indexTime(): number {
    try {
      return statSync(join(this.root, 'index.html')).mtimeMs;
    } catch {
      return -1;
    }
  }
}

function isListenAddress(host: string | undefined, addr: SocketAddr, port: number): boolean {
  return host === formatSocketAddr(addr.host, port);
}

function serveAsset(req: IncomingMessage, res: ServerResponse, path: string, assets: ReadonlyMap<string, Asset>): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return plain(res, 405, 'the dashboard answers GET and HEAD\n');
  }
  const index = assets.get('/index.html');
  if (!index) return plain(res, 503, "the dashboard's front end is not built: run `npm run setup` (it builds web/ into dist/web)\n");
  let asset = assets.get(path);
  if (!asset) {
    // A missing file is a 404; any other path is a view of the single-page app.
    if (/\.[a-z0-9]+$/i.test(path)) return plain(res, 404, `no such file: ${path}\n`);
    asset = index;
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': asset.type,
    'content-length': asset.body.length,
    'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
