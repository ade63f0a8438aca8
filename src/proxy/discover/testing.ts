// Test support for the control-plane clients: a loopback TCP relay that stands for "the controller's
// address" while the controller behind it goes down and comes back, and a listener that never answers.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Logger } from '../../lib/log.js';

/**
 * Listens on a fixed loopback port and relays each connection to `target` (a port on 127.0.0.1). With no
 * target, connections are reset at once, as a stopped controller's address would refuse them.
 */
export class Relay {
  target: number | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(target?: number): Promise<Relay> {
    const server = createServer();
    const relay = new Relay(server);
    relay.target = target;
    server.on('connection', (client) => relay.accept(client));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return relay;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Cuts every relayed connection (the controller died) without changing the target. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.target === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  }
}

/** A TCP listener that accepts connections and never says a word (a hung controller). */
export async function startSilentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A Logger that keeps its lines, for asserting what a client logged. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const emit = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {}, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`);
  };
  return { lines, enabled: () => true, error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug') };
}

/** Resolves when `condition()` holds, polling every 10 ms; rejects after `timeoutMs` naming `what`. */
export async function eventually(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
