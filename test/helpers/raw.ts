// Test helpers that work at the byte level: a raw-socket client that writes exact bytes and collects
// what comes back (with a small HTTP/1 response parser), and backends that record exactly what reached
// them: every byte, every connection, and every request as a strict HTTP/1 parser saw it.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

export const LOOPBACK = '127.0.0.1';

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Listens on a free loopback port and resolves with it. */
export async function listenLoopback(server: Server | HttpServer): Promise<number> {
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** Closes a server and every connection still open on it. */
export async function closeServer(server: Server | HttpServer, sockets: Iterable<Socket> = []): Promise<void> {
  for (const s of sockets) s.destroy();
  if ('closeAllConnections' in server) server.closeAllConnections();
  if (!server.listening) return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

// ---------------------------------------------------------------------------------------------------
// Raw client

export interface RawResponse {
  readonly httpVersion: string;
  readonly status: number;
  readonly reason: string;
  /** Header fields as received: name, value, name, value... */
  readonly rawHeaders: string[];
  readonly body: Buffer;
  readonly rawTrailers: string[];
}

export interface RawResult {
  /** Every byte the proxy sent back. */
  readonly data: Buffer;
  /** The complete responses found in `data`, in order (interim 1xx responses included). */
  readonly responses: RawResponse[];
  /** True when the peer closed the connection (FIN or reset) before the deadline. */
  readonly closed: boolean;
  /** True when the peer reset the connection. */
  readonly reset: boolean;
  /** True when neither a close nor the expected responses arrived before the deadline. */
  readonly timedOut: boolean;
}

export interface RawOptions {
  /** Resolve as soon as this many final (non-1xx) responses are complete, without waiting for a close. */
  readonly responses?: number;
  /** Resolve as soon as what arrived so far satisfies this, without waiting for a close. */
  readonly until?: (data: Buffer) => boolean;
  /** Upper bound on the whole exchange (default 5 s); the result then says timedOut. */
  readonly timeoutMs?: number;
  /** Half-close our write side after writing (default false). */
  readonly end?: boolean;
}

/**
 * Connects to `port`, writes each chunk of `payload` in turn (separate writes, so a test can split a
 * request at an exact byte), and collects the answer until the connection closes, the expected number
 * of responses arrived, or the deadline passed.
 */
export async function rawExchange(port: number, payload: string | Buffer | Array<string | Buffer>, opts: RawOptions = {}): Promise<RawResult> {
  const socket = connect({ host: LOOPBACK, port, allowHalfOpen: true });
  await once(socket, 'connect');
  return collect(socket, payload, opts);
}

/** Like rawExchange on a socket the caller already connected (and may keep using afterwards). */
export function collect(socket: Socket, payload: string | Buffer | Array<string | Buffer>, opts: RawOptions = {}): Promise<RawResult> {
  const chunks: Buffer[] = [];
  let reset = false;
  return new Promise((resolve) => {
    const finish = (closed: boolean, timedOut: boolean) => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('end', onEnd);
      const data = Buffer.concat(chunks);
      if (closed || timedOut) socket.destroy();
      resolve({ data, responses: parseResponses(data, closed).responses, closed, reset, timedOut });
    };
    const onData = (d: Buffer) => {
      chunks.push(d);
      if (opts.until?.(Buffer.concat(chunks))) finish(false, false);
      else if (opts.responses !== undefined) {
        const finals = parseResponses(Buffer.concat(chunks), false).responses.filter((r) => r.status >= 200);
        if (finals.length >= opts.responses) finish(false, false);
      }
    };
    const onEnd = () => finish(true, false);
    const onClose = () => finish(true, false);
    const timer = setTimeout(() => finish(false, true), opts.timeoutMs ?? 5000);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') reset = true;
    });
    for (const part of Array.isArray(payload) ? payload : [payload]) socket.write(part);
    if (opts.end) socket.end();
  });
}

/** Writes a request with Connection: close and returns the single response (or throws). */
export async function rawGet(port: number, path = '/', extraHeaders = ''): Promise<RawResponse> {
  const res = await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: fathom.test\r\n${extraHeaders}Connection: close\r\n\r\n`);
  const final = res.responses.find((r) => r.status >= 200);
  if (!final) throw new Error(`no response to GET ${path}; got ${JSON.stringify(res.data.toString('latin1').slice(0, 300))}`);
  return final;
}

/** The value of the first header named `name` (any case), or undefined. */
export function header(raw: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lower) return raw[i + 1];
  return undefined;
}

/**
 * Splits `data` into the HTTP/1 responses it holds. A body is delimited by Content-Length, chunked
 * encoding, or (when `closed`) the end of the data; an incomplete last response is left out.
 */
export function parseResponses(data: Buffer, closed: boolean): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let pos = 0;
  for (let guard = 0; guard < 10_000 && pos < data.length; guard++) {
    const headEnd = data.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd < 0) break;
    const lines = data.toString('latin1', pos, headEnd).split('\r\n');
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!m) break;
    const rawHeaders = fieldPairs(lines.slice(1));
    const status = Number(m[2]);
    const bodyStart = headEnd + 4;
    const te = header(rawHeaders, 'transfer-encoding');
    const cl = header(rawHeaders, 'content-length');
    let framed: { body: Buffer; rawTrailers: string[]; end: number } | undefined;
    if (status < 200 || status === 204 || status === 304) framed = { body: Buffer.alloc(0), rawTrailers: [], end: bodyStart };
    else if (te?.toLowerCase() === 'chunked') framed = parseChunked(data, bodyStart);
    else if (cl !== undefined) {
      const end = bodyStart + Number(cl);
      if (end <= data.length) framed = { body: data.subarray(bodyStart, end), rawTrailers: [], end };
    } else if (closed) framed = { body: data.subarray(bodyStart), rawTrailers: [], end: data.length };
    if (!framed) break;
    responses.push({ httpVersion: m[1]!, status, reason: m[3] ?? '', rawHeaders, body: framed.body, rawTrailers: framed.rawTrailers });
    pos = framed.end;
  }
  return { responses, rest: data.subarray(pos) };
}

function fieldPairs(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    out.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return out;
}

/** A chunked body starting at `start`, or undefined while incomplete. */
function parseChunked(data: Buffer, start: number): { body: Buffer; rawTrailers: string[]; end: number } | undefined {
  const parts: Buffer[] = [];
  let p = start;
  for (let n = 0; n < 100_000; n++) {
    const lineEnd = data.indexOf('\r\n', p, 'latin1');
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.toString('latin1', p, lineEnd).split(';')[0]!, 16);
    if (size === 0) {
      // The trailer section runs up to an empty line.
      const end = data.indexOf('\r\n\r\n', lineEnd, 'latin1');
      if (end < 0) return undefined;
      const trailerLines = data.toString('latin1', lineEnd + 2, end).split('\r\n').filter((l) => l !== '');
      return { body: Buffer.concat(parts), rawTrailers: fieldPairs(trailerLines), end: end + 4 };
    }
    if (lineEnd + 2 + size + 2 > data.length) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    p = lineEnd + 2 + size + 2;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Recording backend

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  /** The body received so far (complete once `complete` is true). */
  body: Buffer;
  rawTrailers: string[];
  complete: boolean;
  /** Index of the backend connection it arrived on (0-based, in accept order). */
  readonly connection: number;
}

export type BackendHandler = (req: IncomingMessage, res: ServerResponse, record: RecordedRequest) => void;

export interface RecordingBackend {
  readonly port: number;
  readonly server: HttpServer;
  readonly requests: RecordedRequest[];
  /** How many TCP connections were accepted. */
  connections(): number;
  /** Every byte received, per connection, in accept order (latin1). */
  received(): string[];
  /** Problems the backend's own strict parser found (it is stricter than most real apps). */
  readonly parseErrors: string[];
  /** Replaces the handler used for later requests. */
  setHandler(handler: BackendHandler): void;
  close(): Promise<void>;
}

/** Default behaviour: read the whole body, answer 200 with a JSON summary of what arrived. */
export const summaryHandler: BackendHandler = (req, res, record) => {
  req.on('end', () => {
    const body = JSON.stringify({ method: record.method, url: record.url, bodyBytes: record.body.length, bodySha256: sha256(record.body) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
};

/**
 * An HTTP/1 backend that records the exact bytes and requests it receives. The bytes are taken off the
 * socket before Node's parser sees them (through a Duplex relay, since Node otherwise parses a socket
 * natively without 'data' events), so a smuggled request would show up both in `received()` and as an
 * extra entry of `requests`.
 */
export async function startRecordingBackend(handler: BackendHandler = summaryHandler): Promise<RecordingBackend> {
  const requests: RecordedRequest[] = [];
  const received: Buffer[][] = [];
  const parseErrors: string[] = [];
  const sockets = new Set<Socket>();
  let current = handler;
  const connIndex = new WeakMap<Duplex, number>();

  const server = createHttpServer({ joinDuplicateHeaders: false, keepAliveTimeout: 5000, maxHeaderSize: 128 * 1024 }, (req, res) => {
    const record: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      httpVersion: req.httpVersion,
      rawHeaders: [...req.rawHeaders],
      body: Buffer.alloc(0),
      rawTrailers: [],
      complete: false,
      connection: connIndex.get(req.socket as unknown as Duplex) ?? -1,
    };
    requests.push(record);
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      parts.push(d);
      record.body = Buffer.concat(parts);
    });
    req.on('end', () => {
      record.complete = true;
      record.rawTrailers = [...req.rawTrailers];
    });
    current(req, res, record);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    parseErrors.push(err.code ?? err.message);
    socket.destroy();
  });
  // Upgrades are handled by tests that attach their own 'upgrade' listener (ws); none by default.

  const listener = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const index = received.length;
    const bytes: Buffer[] = [];
    received.push(bytes);
    const relay = relayOf(socket, bytes);
    connIndex.set(relay, index);
    server.emit('connection', relay);
  });
  const port = await listenLoopback(listener);
  return {
    port,
    server,
    requests,
    connections: () => received.length,
    received: () => received.map((b) => Buffer.concat(b).toString('latin1')),
    parseErrors,
    setHandler: (h) => {
      current = h;
    },
    close: async () => {
      server.closeAllConnections();
      await closeServer(listener, sockets);
    },
  };
}

/** A Duplex over `socket` that records everything read from it into `bytes`. */
function relayOf(socket: Socket, bytes: Buffer[]): Duplex {
  const relay: Duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (d: Buffer) => {
    bytes.push(d);
    if (!relay.push(d)) socket.pause();
  });
  socket.on('end', () => relay.push(null));
  socket.on('close', () => relay.destroy());
  // http.Server calls these on its connections; a relay has no socket options of its own.
  Object.assign(relay, {
    setTimeout: () => relay,
    setNoDelay: () => relay,
    setKeepAlive: () => relay,
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
  });
  return relay;
}

// ---------------------------------------------------------------------------------------------------
// Raw backend

export interface RawBackend {
  readonly port: number;
  /** The first request head (up to the blank line) of each connection, in accept order. */
  readonly heads: string[];
  /** Every byte received, per connection, in accept order (latin1). */
  readonly received: string[];
  close(): Promise<void>;
}

/**
 * A backend that answers each connection's first request head with whatever `respond` does on the raw
 * socket: exact bytes, a reset, a malformed response. It keeps recording what arrives afterwards but
 * never parses it, so a request that reached it unparsed by the proxy shows up in `received`.
 */
export async function startRawBackend(respond: (socket: Socket, head: string) => void): Promise<RawBackend> {
  const heads: string[] = [];
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const index = received.push('') - 1;
    let answered = false;
    socket.on('data', (d: Buffer) => {
      received[index] += d.toString('latin1');
      const end = received[index]!.indexOf('\r\n\r\n');
      if (answered || end < 0) return;
      answered = true;
      const head = received[index]!.slice(0, end + 4);
      heads.push(head);
      respond(socket, head);
    });
    socket.on('end', () => socket.end());
  });
  const port = await listenLoopback(server);
  return { port, heads, received, close: () => closeServer(server, sockets) };
}
