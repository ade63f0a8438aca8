// node-http-proxy-1hop and fastify-http-proxy-1hop: the Node.js proxies a user might pick instead of a
// mesh, each run as its own process from bench/proxies/. HTTP/1.1 only: neither forwards gRPC (HTTP/2
// with trailers) in the configuration a user gets by default.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canConnect, freePort, start, waitUntil } from '../lib/processes.js';
import type { Scenario } from './scenario.js';

function nodeProxy(name: string, file: string, description: string): Scenario {
  const entry = fileURLToPath(new URL(`../proxies/${file}`, import.meta.url));
  return {
    name,
    description,
    protocols: ['http1'],
    unavailable: () => (existsSync(entry) ? undefined : `${entry} not built`),
    async start(ctx) {
      const port = await freePort();
      const child = start(name, process.execPath, [entry, '--port', String(port), '--target', String(ctx.upstreamPort)]);
      await waitUntil(child, () => canConnect(port));
      return { port, proxies: [child.pid], stop: () => child.stop(5000) };
    },
  };
}

export const nodeHttpProxy1hop = nodeProxy('node-http-proxy-1hop', 'node-http-proxy.js', 'client → http-proxy (keep-alive agent) → server');
export const fastifyHttpProxy1hop = nodeProxy('fastify-http-proxy-1hop', 'fastify-http-proxy.js', 'client → @fastify/http-proxy (undici pool) → server');
