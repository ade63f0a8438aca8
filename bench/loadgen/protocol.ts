// Messages between the benchmark runner and its load-generator process (over Node's IPC channel).
import type { HistogramData } from './histogram.js';

export interface LoadConfig {
  readonly protocol: 'http1' | 'grpc';
  readonly host: string;
  readonly port: number;
  /** HTTP request path (ignored for gRPC). */
  readonly path: string;
  readonly payloadBytes: number;
  /** HTTP/1.1: keep-alive connections, one request in flight each. gRPC: channels (HTTP/2 connections). */
  readonly connections: number;
  /** gRPC only: "grpc-js" (@grpc/grpc-js's client) or "h2" (our own unary calls on node:http2, lighter). */
  readonly grpcClient: 'grpc-js' | 'h2';
  /** gRPC only: calls in flight at most; further due calls wait (and their wait counts as latency). */
  readonly maxInFlight: number;
  readonly rate: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly drainMs: number;
}

export type LoadMessage =
  | { type: 'phase'; phase: 'measuring' | 'measured' }
  | {
      type: 'result';
      latency: HistogramData;
      sendLag: HistogramData;
      ok: number;
      errors: number;
      timeouts: number;
      measuredMs: number;
      /** The generator's own CPU time over the measured window. */
      cpuMs: number;
      problems: Array<[string, number]>;
    }
  | { type: 'failed'; message: string };
