// HTTP/1.1 keep-alive load over a fixed pool of connections, one request in flight per connection (no
// pipelining, like wrk2). The client writes a prebuilt request and parses only what it must (status,
// Content-Length or chunked framing, Connection: close): the generator shares two cores with the proxy
// under test, so every microsecond it spends is taken from the thing being measured.
import { connect, type Socket } from 'node:net';
import type { Sender } from './open-loop.js';

export interface Http1LoadTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Request body size; 0 sends a GET. The backend echoes the body (or sends this many bytes for a GET). */
  readonly payloadBytes: number;
  readonly connections: number;
}

type Done = (due: number, ok: boolean) => void;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

export function buildRequest(t: Http1LoadTarget): Buffer {
  const host = `${t.host}:${t.port}`;
  if (t.payloadBytes === 0) return Buffer.from(`GET ${t.path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'latin1');
  const head = `POST ${t.path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${t.payloadBytes}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(t.payloadBytes, 0x61)]);
}

/** Parses a stream of HTTP/1.1 responses; calls `onResponse` at the end of each one. */
export class ResponseParser {
  private state: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' = 'head';
  private pending: Buffer | undefined;
  private remaining = 0;
  private status = 0;
  private close = false;
  private bodyBytes = 0;

  constructor(private readonly onResponse: (status: number, bodyBytes: number, close: boolean) => void) {}

  /** Feeds bytes; returns an error message for a response it cannot parse. */
  feed(chunk: Buffer): string | undefined {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < buf.length) {
      if (this.state === 'length' || this.state === 'chunk-data' || this.state === 'chunk-end') {
        const take = Math.min(this.remaining, buf.length - at);
        this.remaining -= take;
        at += take;
        if (this.state !== 'chunk-end') this.bodyBytes += take;
        if (this.remaining > 0) break;
        if (this.state === 'length') this.end();
        else if (this.state === 'chunk-data') {
          this.state = 'chunk-end';
          this.remaining = 2; // the CRLF after the chunk's data
        } else this.state = 'chunk-size';
        continue;
      }
      const delimiter = this.state === 'head' ? CRLFCRLF : CRLF;
      const end = buf.indexOf(delimiter, at);
      if (end < 0) {
        this.pending = buf.subarray(at);
        if (this.pending.length > 65536) return 'response head over 64 KiB';
        break;
      }
      const text = buf.toString('latin1', at, end);
      at = end + delimiter.length;
      if (this.state === 'head') {
        const problem = this.head(text);
        if (problem) return problem;
      } else if (this.state === 'chunk-size') {
        const size = parseInt(text, 16);
        if (!Number.isFinite(size) || size < 0) return `bad chunk size "${text.slice(0, 20)}"`;
        if (size === 0) this.state = 'trailer';
        else {
          this.remaining = size;
          this.state = 'chunk-data';
        }
      } else if (text === '') {
        this.end(); // the empty line after the last chunk (and any trailers)
      }
    }
    return undefined;
  }

  private head(text: string): string | undefined {
    if (!text.startsWith('HTTP/1.')) return `not an HTTP/1 response: "${text.slice(0, 20)}"`;
    this.status = parseInt(text.slice(9, 12), 10);
    if (this.status >= 100 && this.status < 200) return undefined; // 1xx: the real response follows
    const lower = text.toLowerCase();
    this.close = /\r\nconnection:[^\r]*close/.test(lower);
    this.bodyBytes = 0;
    if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      this.state = 'chunk-size';
      return undefined;
    }
    const m = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    this.remaining = m ? parseInt(m[1]!, 10) : 0;
    if (this.remaining === 0) this.end();
    else this.state = 'length';
    return undefined;
  }

  private end(): void {
    this.state = 'head';
    this.onResponse(this.status, this.bodyBytes, this.close);
  }
}

class Connection {
  socket: Socket | undefined;
  private due = -1;
  private done: Done | undefined;
  private readonly parser: ResponseParser;

  constructor(
    private readonly pool: Http1Pool,
    private readonly request: Buffer,
    private readonly expectBytes: number,
  ) {
    this.parser = new ResponseParser((status, bytes, close) => this.onResponse(status, bytes, close));
  }

  open(): void {
    const socket = connect({ host: this.pool.target.host, port: this.pool.target.port, noDelay: true });
    this.socket = socket;
    socket.on('connect', () => this.pool.idle(this));
    socket.on('data', (chunk: Buffer) => {
      const problem = this.parser.feed(chunk);
      if (problem) {
        this.pool.problem(problem);
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.pool.problem(err.message));
    socket.on('close', () => this.onClose(socket));
  }

  send(due: number, done: Done): void {
    this.due = due;
    this.done = done;
    this.socket!.write(this.request);
  }

  private onResponse(status: number, bytes: number, close: boolean): void {
    const done = this.done;
    const due = this.due;
    this.done = undefined;
    const ok = status >= 200 && status < 300 && bytes === this.expectBytes;
    if (!ok) this.pool.problem(`status ${status}, ${bytes} body bytes (expected ${this.expectBytes})`);
    if (close) this.socket?.destroy();
    else this.pool.release(this); // done() pumps the schedule, which may reuse this connection at once
    done?.(due, ok);
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.pool.remove(this);
    const done = this.done;
    this.done = undefined;
    done?.(this.due, false);
    this.pool.reopen(this);
  }
}

/** The pool is the sender: a request goes out on any idle connection, or waits in the schedule's queue. */
export class Http1Pool implements Sender {
  private readonly idleConns: Connection[] = [];
  private readonly conns: Connection[] = [];
  private closed = false;
  /** Called when a connection becomes free (the schedule then sends what is waiting). */
  onRoom: () => void = () => {};
  /** Distinct problems seen, with counts (reported, never thrown: the run goes on). */
  readonly problems = new Map<string, number>();

  constructor(readonly target: Http1LoadTarget) {
    const request = buildRequest(target);
    for (let i = 0; i < target.connections; i++) this.conns.push(new Connection(this, request, target.payloadBytes));
  }

  /** Opens every connection; resolves when all are connected, rejects after `timeoutMs`. */
  async open(timeoutMs = 5000): Promise<void> {
    for (const c of this.conns) c.open();
    const deadline = Date.now() + timeoutMs;
    while (this.idleConns.length < this.conns.length) {
      if (Date.now() > deadline) throw new Error(`only ${this.idleConns.length} of ${this.conns.length} connections to ${this.target.host}:${this.target.port} opened: ${[...this.problems.keys()].join('; ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  trySend(due: number, done: Done): boolean {
    const c = this.idleConns.pop();
    if (!c) return false;
    c.send(due, done);
    return true;
  }

  /** A connection just opened: it takes what is waiting. */
  idle(c: Connection): void {
    this.idleConns.push(c);
    this.onRoom();
  }

  release(c: Connection): void {
    this.idleConns.push(c);
  }

  remove(c: Connection): void {
    const i = this.idleConns.indexOf(c);
    if (i >= 0) this.idleConns.splice(i, 1);
  }

  reopen(c: Connection): void {
    if (!this.closed) setTimeout(() => !this.closed && c.open(), 20).unref();
  }

  problem(message: string): void {
    this.problems.set(message, (this.problems.get(message) ?? 0) + 1);
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns) c.socket?.destroy();
  }
}
