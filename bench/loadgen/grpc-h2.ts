// gRPC unary calls written directly on node:http2, for when @grpc/grpc-js's client (≈0.3–0.45 ms of CPU
// per call on this machine, measured with grpc.ts) would make the load generator the bottleneck. It
// sends exactly what a gRPC client sends for a unary call (POST, content-type application/grpc,
// te: trailers, one length-prefixed message) and checks what a client checks (HTTP 200, one message
// of the expected size, grpc-status 0 in the trailers). The backend is the real grpc-js server.
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { ECHO_PATH } from '../backends/echo-service.js';
import type { GrpcLoadTarget } from './grpc.js';
import type { Sender } from './open-loop.js';

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE, HTTP2_HEADER_AUTHORITY } = constants;

export class GrpcH2Sender implements Sender {
  private readonly sessions: ClientHttp2Session[] = [];
  private readonly frame: Buffer;
  private readonly headers: Record<string, string>;
  private next = 0;
  private inFlight = 0;
  private closed = false;
  onRoom: () => void = () => {};
  readonly problems = new Map<string, number>();

  constructor(private readonly target: GrpcLoadTarget) {
    // The length-prefixed message: 1 byte "not compressed", 4 bytes big-endian length, the payload.
    this.frame = Buffer.alloc(5 + target.payloadBytes, 0x61);
    this.frame.writeUInt8(0, 0);
    this.frame.writeUInt32BE(target.payloadBytes, 1);
    this.headers = {
      [HTTP2_HEADER_METHOD]: 'POST',
      [HTTP2_HEADER_PATH]: ECHO_PATH,
      [HTTP2_HEADER_AUTHORITY]: `${target.host}:${target.port}`,
      [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [HTTP2_HEADER_TE]: 'trailers',
    };
  }

  async open(timeoutMs = 5000): Promise<void> {
    const url = `http://${this.target.host}:${this.target.port}`;
    await Promise.all(
      Array.from({ length: this.target.connections }, () =>
        new Promise<void>((resolve, reject) => {
          const session = connect(url, { peerMaxConcurrentStreams: 1000 });
          const timer = setTimeout(() => reject(new Error(`HTTP/2 connection to ${url} not ready after ${timeoutMs} ms`)), timeoutMs);
          session.once('connect', () => {
            clearTimeout(timer);
            resolve();
          });
          session.once('error', (err) => {
            clearTimeout(timer);
            this.problem(err.message);
            reject(err);
          });
          session.on('error', () => {});
          this.sessions.push(session);
        }),
      ),
    );
  }

  trySend(due: number, done: (due: number, ok: boolean) => void): boolean {
    if (this.inFlight >= this.target.maxInFlight || this.closed) return false;
    const session = this.sessions[this.next]!;
    this.next = (this.next + 1) % this.sessions.length;
    if (session.destroyed || session.closed) {
      this.problem('HTTP/2 connection closed');
      return false;
    }
    this.inFlight++;
    let status = 0;
    let bytes = 0;
    let grpcStatus: string | undefined;
    let finished = false;
    const finish = (error?: string): void => {
      if (finished) return;
      finished = true;
      this.inFlight--;
      const ok = !error && status === 200 && grpcStatus === '0' && bytes === this.frame.length;
      if (!ok) this.problem(error ?? `HTTP ${status}, grpc-status ${grpcStatus ?? 'missing'}, ${bytes} bytes (expected ${this.frame.length})`);
      done(due, ok);
    };
    const stream = session.request(this.headers, { endStream: false });
    stream.on('response', (h: IncomingHttpHeaders) => {
      status = Number(h[':status']);
      // A "trailers-only" response carries grpc-status in the headers.
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    stream.on('trailers', (t: IncomingHttpHeaders) => {
      grpcStatus = String(t['grpc-status']);
    });
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('end', () => finish());
    stream.on('close', () => finish(stream.rstCode ? `stream reset with code ${stream.rstCode}` : undefined));
    stream.on('error', (err) => finish(err.message));
    stream.end(this.frame);
    return true;
  }

  problem(message: string): void {
    this.problems.set(message, (this.problems.get(message) ?? 0) + 1);
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions) s.destroy();
  }
}
