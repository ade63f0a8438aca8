// The `http-proxy` package as a user would run it, configured fairly: a keep-alive agent for the
// upstream (without one it opens a connection per request and collapses, see reference/performance.md
// §3), idle upstream connections kept up to 64 like nginx's `keepalive 64`.
// Usage: node dist/bench/proxies/node-http-proxy.js --port LISTEN --target UPSTREAM_PORT
import httpProxy from 'http-proxy';
import { Agent, createServer } from 'node:http';
import { argPort } from './args.js';

const port = argPort('--port');
const target = argPort('--target');
const agent = new Agent({ keepAlive: true, maxFreeSockets: 64, keepAliveMsecs: 120_000 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${target}`, agent });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen({ host: '127.0.0.1', port, backlog: 1024 });
process.on('SIGTERM', () => process.exit(0));
