// Test helper: a raw HTTP/2 client that writes exact frames and records every frame it receives, for the
// hardening tests (attacks no well-behaved library would send). Header blocks are HPACK literals without
// indexing and without Huffman coding (RFC 7541 §6.2.2), which any decoder must accept; `hpackIndexed`
// and `hpackIncremental` add the two other forms the HPACK-bomb test needs.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9,
} as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const ErrorCode = {
  NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, SETTINGS_TIMEOUT: 4, STREAM_CLOSED: 5, FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, CONNECT_ERROR: 10, ENHANCE_YOUR_CALM: 11,
} as const;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export function settingsFrame(pairs: ReadonlyArray<readonly [number, number]> = [], ack = false): Buffer {
  const payload = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, ack ? Flag.ACK : 0, 0, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, p);
}

export function pingFrame(data: Buffer = Buffer.alloc(8), ack = false): Buffer {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, data);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(increment);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, p);
}

export function dataFrame(streamId: number, data: Buffer | string, endStream = false): Buffer {
  return frame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId, Buffer.from(data));
}

export function headersFrame(streamId: number, block: Buffer, opts: { endStream?: boolean; endHeaders?: boolean } = {}): Buffer {
  const flags = (opts.endStream ? Flag.END_STREAM : 0) | (opts.endHeaders === false ? 0 : Flag.END_HEADERS);
  return frame(FrameType.HEADERS, flags, streamId, block);
}

export function continuationFrame(streamId: number, block: Buffer, endHeaders = false): Buffer {
  return frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId, block);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1); `high` holds the bits above the prefix. */
export function hpackInt(value: number, prefixBits: number, high = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(s: string): Buffer {
  const raw = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(raw.length, 7), raw]);
}

/** Literal header field without indexing, new name (RFC 7541 §6.2.2). */
export function hpackLiteral(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

/** Literal header field with incremental indexing, new name: adds the field to the dynamic table. */
export function hpackIncremental(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);
}

/** Indexed header field (static table 1-61, dynamic table from 62). */
export function hpackIndexed(index: number): Buffer {
  return hpackInt(index, 7, 0x80);
}

export function headerBlock(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.concat(fields.map(([n, v]) => hpackLiteral(n, v)));
}

/** The pseudo-headers of a plain GET, for building valid and invalid requests. */
export function getRequest(authority: string, path = '/'): Array<[string, string]> {
  return [[':method', 'GET'], [':scheme', 'http'], [':authority', authority], [':path', path]];
}

/** `:status` of a response header block when the encoder used the static table (200, 204, 206, 304, 400, 404, 500). */
export function staticStatus(block: Buffer): number | undefined {
  const first = block[0];
  if (first === undefined || (first & 0x80) === 0) return undefined;
  return ({ 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 } as Record<number, number>)[first & 0x7f];
}

/** A raw HTTP/2 connection: sends the preface and an empty SETTINGS, acknowledges the server's SETTINGS and PINGs. */
export class RawH2Client {
  readonly frames: Frame[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();
  closed = false;
  /** Whether to acknowledge the server's SETTINGS and PINGs (off while writing a frame byte by byte). */
  autoAck = true;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /** Wraps a connected socket without sending anything: the caller writes the preface itself. */
  static attach(socket: Socket): RawH2Client {
    return new RawH2Client(socket);
  }

  static async connect(port: number, opts: { host?: string; settings?: ReadonlyArray<readonly [number, number]> } = {}): Promise<RawH2Client> {
    const socket = connect({ port, host: opts.host ?? '127.0.0.1', noDelay: true });
    await once(socket, 'connect');
    const client = new RawH2Client(socket);
    client.send(Buffer.concat([PREFACE, settingsFrame(opts.settings ?? [])]));
    await client.waitFor((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0, 2000);
    return client;
  }

  send(bytes: Buffer): boolean {
    if (this.socket.destroyed) return false;
    return this.socket.write(bytes);
  }

  /** Resolves with the first received frame matching `pred` (already received ones included). */
  async waitFor(pred: (f: Frame) => boolean, timeoutMs: number): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit) return hit;
      if (this.closed) throw new Error(`connection closed before the awaited frame (got ${this.describe()})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame (got ${this.describe()})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** Resolves once the server closed the connection. */
  async waitClosed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`connection still open after ${timeoutMs}ms (got ${this.describe()})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  goaway(): { lastStreamId: number; code: number } | undefined {
    const f = this.frames.find((x) => x.type === FrameType.GOAWAY);
    return f ? { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) } : undefined;
  }

  /** The RST_STREAM code received for `streamId`, if any. */
  rstCode(streamId: number): number | undefined {
    const f = this.frames.find((x) => x.type === FrameType.RST_STREAM && x.streamId === streamId);
    return f?.payload.readUInt32BE(0);
  }

  close(): void {
    this.socket.destroy();
  }

  describe(): string {
    const names = Object.fromEntries(Object.entries(FrameType).map(([k, v]) => [v, k]));
    const counts = new Map<string, number>();
    for (const f of this.frames) counts.set(names[f.type] ?? String(f.type), (counts.get(names[f.type] ?? String(f.type)) ?? 0) + 1);
    const g = this.goaway();
    return `${[...counts].map(([k, v]) => `${k}×${v}`).join(' ') || 'no frames'}${g ? ` goaway code=${g.code}` : ''}${this.closed ? ' closed' : ''}`;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const len = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + len) break;
      const f: Frame = {
        type: this.buffered[3]!,
        flags: this.buffered[4]!,
        streamId: this.buffered.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffered.subarray(9, 9 + len),
      };
      this.buffered = this.buffered.subarray(9 + len);
      this.frames.push(f);
      if (this.autoAck && f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0) this.send(settingsFrame([], true));
      if (this.autoAck && f.type === FrameType.PING && (f.flags & Flag.ACK) === 0) this.send(pingFrame(f.payload, true));
    }
    this.notify();
  }

  private notify(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }
}
