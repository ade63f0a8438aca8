// @fastify/http-proxy as a user would run it: fastify without logging, proxying every path to the
// upstream through its default undici pool (keep-alive, 64 connections, no pipelining).
// Usage: node dist/bench/proxies/fastify-http-proxy.js --port LISTEN --target UPSTREAM_PORT
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { argPort } from './args.js';

const port = argPort('--port');
const target = argPort('--target');
const app = Fastify({ logger: false, keepAliveTimeout: 120_000 });
await app.register(proxy, {
  upstream: `http://127.0.0.1:${target}`,
  undici: { connections: 64, pipelining: 1, keepAliveTimeout: 120_000 },
});
await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
