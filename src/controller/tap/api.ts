// The tap API: `GET /api/v1/tap?resource=deploy/web&...` streams newline-delimited JSON events from the
// selected pods' proxies, rate-limited, until the client disconnects (docs/observability.md). Mounted on
// the controller's API server next to the metrics API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FathomError } from '../../lib/errors.js';
import { logger } from '../../lib/log.js';
import type { Platform } from '../../platform/platform.js';
import { formatResource } from '../metrics-api/resources.js';
import { observeLoop, podRate } from './rate.js';
import { buildMatch, tapRequest, type TapRequestParams } from './request.js';
import type { TapSource } from './source.js';
import { tapTargets, type TapTarget, type TargetNames } from './targets.js';
import { translateEvent } from './translate.js';
import type { TapLine } from './types.js';

const log = logger('tap-api');

export const TAP_PATH = '/api/v1/tap';

/** HTTP statuses of the errors a tap request can get before it streams; anything else is a 500. */
const STATUS: Readonly<Record<string, number>> = { EBADREQUEST: 400, ENOPODS: 404, EMETHOD: 405, ENOLISTING: 501 };

/**
 * Bytes a slow reader may leave unread before events are dropped: tap is a sample, and one stalled
 * dashboard tab must not grow the controller's memory.
 */
const MAX_UNREAD_BYTES = 1 << 20;

export interface TapApiOptions extends TargetNames {
  readonly platform: Platform;
  readonly source: TapSource;
}

export class TapApi {
  constructor(private readonly opts: TapApiOptions) {}

  /** Answers `GET /api/v1/tap`; returns false (and writes nothing) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://api');
    if (url.pathname.replace(/\/+$/, '') !== TAP_PATH) return false;
    let params: TapRequestParams;
    let targets: TapTarget[];
    try {
      if (req.method !== 'GET') throw new FathomError('EMETHOD', `${TAP_PATH} answers GET only`);
      params = tapRequest(url.searchParams);
      targets = tapTargets(this.opts.platform, params.resource, params.namespace, this.opts);
    } catch (err) {
      refuse(res, err);
      return true;
    }
    this.stream(params, targets, res);
    return true;
  }

  private stream(params: TapRequestParams, targets: readonly TapTarget[], res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.flushHeaders();
    const abort = new AbortController();
    // The client went away (or the server is closing): stop observing every pod.
    res.once('close', () => abort.abort());
    let dropped = 0;
    const write = (line: TapLine) => {
      if (res.writableLength > MAX_UNREAD_BYTES) dropped++;
      else res.write(JSON.stringify(line) + '\n');
    };
    const rate = podRate(params.maxRps, targets.length);
    const match = buildMatch(params);
    log.info('tap started', { resource: formatResource(params.resource), namespace: params.namespace, pods: targets.length, limit: rate.limit, window_ms: rate.windowMs });
    const loops = targets.map((target) => {
      const tap = this.opts.source.connect(target);
      let lastError = '';
      return observeLoop({
        tap,
        rate,
        match,
        signal: abort.signal,
        onEvent: (event) => {
          lastError = '';
          const json = translateEvent(event, { platform: this.opts.platform, pod: target.pod });
          if (json) write(json);
        },
        onError: (err) => {
          // Said once per distinct failure: the loop retries every window.
          if (err.message === lastError) return;
          lastError = err.message;
          log.debug('tap of a pod failed', { pod: target.key, error: err });
          write({ type: 'error', proxy_pod: target.key, message: err.message });
        },
      }).finally(() => tap.close());
    });
    void Promise.all(loops).then(() => {
      log.info('tap ended', { resource: formatResource(params.resource), namespace: params.namespace, dropped });
      res.end();
    });
  }
}

function refuse(res: ServerResponse, err: unknown): void {
  const code = err instanceof FathomError ? err.code : 'EINTERNAL';
  const status = STATUS[code] ?? 500;
  if (status === 500) log.error('tap request failed', { error: err as Error });
  const text = JSON.stringify({ error: { code, message: err instanceof Error ? err.message : String(err) } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
