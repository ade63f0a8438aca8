// gRPC unary load with @grpc/grpc-js over a fixed number of channels (one HTTP/2 connection each). HTTP/2
// multiplexes, so a request is sent at its due time unless `maxInFlight` calls are already outstanding.
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { ECHO_PATH } from '../backends/echo-service.js';
import type { Sender } from './open-loop.js';

export interface GrpcLoadTarget {
  readonly host: string;
  readonly port: number;
  readonly payloadBytes: number;
  readonly connections: number;
  readonly maxInFlight: number;
}

const identity = (b: Buffer): Buffer => b;

export class GrpcSender implements Sender {
  private readonly clients: Client[] = [];
  private readonly payload: Buffer;
  private next = 0;
  private inFlight = 0;
  onRoom: () => void = () => {};
  readonly problems = new Map<string, number>();

  constructor(private readonly target: GrpcLoadTarget) {
    this.payload = Buffer.alloc(target.payloadBytes, 0x61);
    for (let i = 0; i < target.connections; i++) {
      // A local subchannel pool gives each client its own connection instead of sharing one.
      this.clients.push(new Client(`${target.host}:${target.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    }
  }

  async open(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      this.clients.map(
        (c) => new Promise<void>((resolve, reject) => c.waitForReady(deadline, (err) => (err ? reject(new Error(`gRPC channel to ${this.target.host}:${this.target.port} not ready: ${err.message}`)) : resolve()))),
      ),
    );
  }

  trySend(due: number, done: (due: number, ok: boolean) => void): boolean {
    if (this.inFlight >= this.target.maxInFlight) return false;
    this.inFlight++;
    const client = this.clients[this.next]!;
    this.next = (this.next + 1) % this.clients.length;
    client.makeUnaryRequest(ECHO_PATH, identity, identity, this.payload, (err: ServiceError | null, res?: Buffer) => {
      this.inFlight--;
      const ok = !err && res !== undefined && res.length === this.payload.length;
      if (!ok) this.problem(err ? `gRPC ${err.code}: ${err.details}` : `echo of ${res?.length} bytes, expected ${this.payload.length}`);
      done(due, ok);
    });
    return true;
  }

  problem(message: string): void {
    this.problems.set(message, (this.problems.get(message) ?? 0) + 1);
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
