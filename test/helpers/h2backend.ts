// Test helper: an h2c backend (node:http2) with routes that exercise a proxy's HTTP/2 path, counting the
// sessions and streams it sees and how each stream ended.
import { once } from 'node:events';
import { constants, createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface H2Backend {
  readonly port: number;
  readonly server: Http2Server;
  /** Sessions (connections) accepted so far. */
  sessions: number;
  /** Streams (requests) received so far, by path without query. */
  readonly streams: Map<string, number>;
  /** RST_STREAM codes of streams that ended abnormally, by path without query. */
  readonly resets: Map<string, number[]>;
  /** Bytes /flood wrote before its stream stalled or ended. */
  floodWritten: number;
  /** Resolves when a stream for `path` has arrived `count` times in total. */
  arrived(path: string, count?: number): Promise<void>;
  /** Gracefully closes every session (GOAWAY), as a restarting endpoint would. */
  goAway(): void;
  close(): Promise<void>;
}

/**
 * Routes: /echo (body and trailers back), /slow?ms=&bytes= (answer after a delay), /flood?bytes= (write as
 * fast as flow control allows), /reset?code=&when=headers|body (RST_STREAM), /hints (103 then 200),
 * /status?code= , /grpc-error (trailers-only grpc-status 13), anything else → 200 "ok".
 */
export async function startH2Backend(opts: { maxConcurrentStreams?: number } = {}): Promise<H2Backend> {
  const server = createServer({ settings: { maxConcurrentStreams: opts.maxConcurrentStreams ?? 1000 } });
  const live = new Set<ServerHttp2Session>();
  const waiters: Array<() => void> = [];
  const backend: H2Backend = {
    port: 0,
    server,
    sessions: 0,
    streams: new Map(),
    resets: new Map(),
    floodWritten: 0,
    async arrived(path, count = 1) {
      while ((backend.streams.get(path) ?? 0) < count) await new Promise<void>((r) => waiters.push(r));
    },
    goAway() {
      for (const s of live) s.close();
    },
    async close() {
      for (const s of live) s.destroy();
      server.close();
    },
  };
  server.on('session', (s) => {
    backend.sessions++;
    live.add(s);
    s.on('close', () => live.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const url = new URL(String(headers[':path']), 'http://x');
    const path = url.pathname;
    backend.streams.set(path, (backend.streams.get(path) ?? 0) + 1);
    stream.once('close', () => {
      if (stream.rstCode !== constants.NGHTTP2_NO_ERROR) backend.resets.set(path, [...(backend.resets.get(path) ?? []), stream.rstCode]);
    });
    for (const w of waiters.splice(0)) w();
    route(stream, headers, url, backend);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  (backend as { port: number }).port = (server.address() as AddressInfo).port;
  return backend;
}

function route(stream: ServerHttp2Stream, headers: Record<string, unknown>, url: URL, backend: H2Backend): void {
  const q = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
  switch (url.pathname) {
    case '/echo': {
      stream.respond({ ':status': 200, 'content-type': String(headers['content-type'] ?? 'application/octet-stream'), 'x-request-authority': String(headers[':authority']) }, { waitForTrailers: true });
      let requestTrailer = '';
      stream.on('trailers', (t) => (requestTrailer = String(t['x-request-trailer'] ?? '')));
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-echoed-trailer': requestTrailer || 'none', 'x-response-trailer': 'done' }));
      stream.pipe(stream);
      return;
    }
    case '/slow': {
      stream.resume();
      const timer = setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200 });
        stream.end(Buffer.alloc(q('bytes', 2), 'x'));
      }, q('ms', 500));
      stream.once('close', () => clearTimeout(timer));
      return;
    }
    case '/flood': {
      stream.resume();
      stream.respond({ ':status': 200 });
      const total = q('bytes', 64 << 20);
      const chunk = Buffer.alloc(16 * 1024, 'f');
      backend.floodWritten = 0;
      const pump = () => {
        while (backend.floodWritten < total && !stream.destroyed) {
          backend.floodWritten += chunk.length;
          if (!stream.write(chunk)) return void stream.once('drain', pump);
        }
        if (!stream.destroyed) stream.end();
      };
      pump();
      return;
    }
    case '/reset': {
      stream.resume();
      const code = q('code', constants.NGHTTP2_INTERNAL_ERROR);
      if (url.searchParams.get('when') === 'body') {
        // Waiting for trailers that never come keeps END_STREAM from going out before the RST_STREAM
        // (close() ends the stream first otherwise).
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.on('wantTrailers', () => {});
        stream.write('partial');
        setTimeout(() => stream.close(code), 50);
      } else {
        stream.close(code);
      }
      return;
    }
    case '/refuse-once':
      // The first time: a GOAWAY naming an earlier stream as the last processed, so the client must
      // treat this one as refused (as in a race with a graceful shutdown); afterwards, 200.
      stream.resume();
      if ((backend.streams.get('/refuse-once') ?? 0) === 1) {
        stream.session?.goaway(constants.NGHTTP2_NO_ERROR, Math.max(0, (stream.id ?? 1) - 2));
        return;
      }
      stream.respond({ ':status': 200 });
      stream.end('second time lucky');
      return;
    case '/hints':
      stream.resume();
      stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload' });
      setTimeout(() => {
        stream.respond({ ':status': 200 });
        stream.end('after hints');
      }, 20);
      return;
    case '/status':
      stream.resume();
      stream.respond({ ':status': q('code', 200) });
      stream.end();
      return;
    case '/grpc-error':
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13', 'grpc-message': 'boom' }, { endStream: true });
      return;
    default:
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end('ok');
  }
}
