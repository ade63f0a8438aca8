// The metrics API over HTTP/JSON (docs/observability.md): stat, routes, edges, checks and version, each a
// GET with query parameters; failures are JSON too, with a stable code. The dashboard's server can mount
// the same handler.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';
import { FathomError } from '../../lib/errors.js';
import { logger } from '../../lib/log.js';
import { CATEGORIES } from '../checks/categories.js';
import type { CheckCategory, CheckContext } from '../checks/check.js';
import { runChecks } from '../checks/runner.js';
import { edges } from './edges.js';
import type { Inventory } from './inventory.js';
import type { PromQuerier, PromRangeQuerier } from './prometheus.js';
import { pods } from './pods.js';
import { checksRequest, edgesRequest, podsRequest, routesRequest, seriesRequest, statRequest } from './request.js';
import { routes } from './routes.js';
import { series } from './series.js';
import { stat } from './stat.js';
import type { ApiErrorBody, VersionResponse } from './types.js';

const log = logger('metrics-api');

export interface MetricsApiOptions {
  /** Undefined when the controller runs without Prometheus: metrics endpoints then answer 503. */
  readonly prometheus: (PromQuerier & Partial<PromRangeQuerier>) | undefined;
  readonly inventory: Inventory;
  readonly clusterDomain: string;
  readonly platformKind: string;
  readonly version: string;
  /** The context checks run in, given what the caller said about itself. */
  checkContext(client: CheckContext['client']): CheckContext;
  readonly categories?: readonly CheckCategory[];
  /** The evaluation time of queries, ms since the epoch; injectable for tests. */
  readonly now?: () => number;
}

type Endpoint = (params: URLSearchParams) => Promise<unknown>;

/** HTTP statuses of the API's error codes; anything else is a 500. */
const STATUS: Readonly<Record<string, number>> = { EBADREQUEST: 400, ENOTFOUND: 404, EMETHOD: 405, ENOLISTING: 501, EPROMETHEUS: 502, ENOPROMETHEUS: 503 };

export class MetricsApi {
  private readonly endpoints: ReadonlyMap<string, Endpoint>;

  constructor(private readonly opts: MetricsApiOptions) {
    const now = opts.now ?? Date.now;
    const prometheus = (): PromQuerier & Partial<PromRangeQuerier> => {
      if (!opts.prometheus) throw new FathomError('ENOPROMETHEUS', 'the controller runs without Prometheus: start it with --prometheus-url');
      return opts.prometheus;
    };
    this.endpoints = new Map<string, Endpoint>([
      ['/api/v1/stat', (p) => stat(statRequest(p), prometheus(), opts.inventory, now())],
      ['/api/v1/routes', (p) => routes(routesRequest(p, opts.clusterDomain), prometheus(), now())],
      ['/api/v1/edges', (p) => edges(edgesRequest(p), prometheus(), now())],
      ['/api/v1/pods', async (p) => pods(podsRequest(p), opts.inventory)],
      [
        '/api/v1/series',
        (p) => {
          const req = seriesRequest(p);
          const prom = prometheus();
          if (!prom.queryRange) throw new FathomError('ENOPROMETHEUS', 'this Prometheus client answers instant queries only');
          return series(req, { queryRange: prom.queryRange.bind(prom) }, now());
        },
      ],
      [
        '/api/v1/checks',
        async (p) => {
          const req = checksRequest(p);
          return runChecks(opts.categories ?? CATEGORIES, opts.checkContext(req.client), { proxy: req.proxy });
        },
      ],
      ['/api/v1/version', async (): Promise<VersionResponse> => ({ version: opts.version, platform: opts.platformKind })],
    ]);
  }

  /** Answers one request; returns false (and writes nothing) for a path outside /api/. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://api');
    if (!url.pathname.startsWith('/api/')) return false;
    const endpoint = this.endpoints.get(url.pathname.replace(/\/+$/, ''));
    const answer = !endpoint
      ? Promise.reject(new FathomError('ENOTFOUND', `no such endpoint: ${url.pathname}`))
      : req.method !== 'GET'
        ? Promise.reject(new FathomError('EMETHOD', `${url.pathname} answers GET only`))
        : // Parameters are parsed synchronously: a bad one must reject, not throw out of the request handler.
          Promise.resolve(url.searchParams).then(endpoint);
    answer.then(
      (body) => send(res, 200, body),
      (err: unknown) => {
        const code = err instanceof FathomError ? err.code : 'EINTERNAL';
        const status = STATUS[code] ?? 500;
        if (status === 500) log.error('metrics API request failed', { path: url.pathname, error: err as Error });
        else log.debug('metrics API request refused', { path: url.pathname, code, error: err as Error });
        const body: ApiErrorBody = { error: { code, message: err instanceof Error ? err.message : String(err) } };
        send(res, status, body);
      },
    );
    return true;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Anything that answers some paths of the API server (the tap API is mounted this way). */
export interface ApiHandler {
  /** Answers the request and returns true, or returns false and writes nothing for a path it does not serve. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** The API on its own HTTP server (the controller's `--api-addr`). */
export class MetricsApiServer {
  private constructor(
    readonly port: number,
    private readonly server: Server,
  ) {}

  static async listen(addr: SocketAddr, api: MetricsApi, mounts: readonly ApiHandler[] = []): Promise<MetricsApiServer> {
    const server = createServer((req, res) => {
      // Mounted APIs first: the metrics API answers every other /api/ path, unknown ones with a 404.
      if (mounts.some((m) => m.handle(req, res))) return;
      if (!api.handle(req, res)) send(res, 404, { error: { code: 'ENOTFOUND', message: `no such endpoint: ${req.url ?? '/'}` } } satisfies ApiErrorBody);
    });
    // Callers poll and stream little: short keep-alive keeps idle sockets from holding shutdown.
    server.keepAliveTimeout = 5_000;
    server.listen(addr.port, addr.host);
    try {
      await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
    } catch (err) {
      throw new FathomError('EAPILISTEN', `cannot listen on ${formatSocketAddr(addr.host, addr.port)} for the metrics API: ${(err as Error).message}`, { cause: err });
    }
    return new MetricsApiServer((server.address() as AddressInfo).port, server);
  }

  async close(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }
}
