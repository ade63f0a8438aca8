// The benchmark's backend, one process for every scenario of a run: an HTTP/1.1 server that echoes the
// request body (or answers a GET with `payload` bytes) and a gRPC server with a unary echo. Both listen on
// free loopback ports and print them as one JSON line on stdout once ready.
// Usage: node dist/bench/backends/main.js [--payload BYTES]
import { Server as GrpcServer, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { echoService } from './echo-service.js';

export interface BackendPorts {
  readonly http: number;
  readonly grpc: number;
}

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const payload = Buffer.alloc(Number(argValue('--payload', '1024')), 0x62);
  const headers = { 'content-type': 'application/octet-stream' };

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': payload.length });
      res.end(payload);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      res.writeHead(200, { ...headers, 'content-length': body.length });
      res.end(body);
    });
  });
  // Proxies keep pooled connections idle between benchmark steps: don't close them under their feet.
  http.keepAliveTimeout = 120_000;
  http.headersTimeout = 125_000;
  await new Promise<void>((resolve) => http.listen({ host: '127.0.0.1', port: 0, backlog: 1024 }, resolve));

  const grpc = new GrpcServer();
  grpc.addService(echoService, {
    Echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, call.request),
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );

  const ports: BackendPorts = { http: (http.address() as AddressInfo).port, grpc: grpcPort };
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  const stop = (): void => {
    http.close();
    grpc.forceShutdown();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`backend: ${err.message}\n`);
  process.exit(1);
});
