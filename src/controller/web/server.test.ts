// The dashboard's server on loopback: the app for every view's URL, assets with their caching, the APIs
// mounted on the same origin, refusals (foreign Host, other methods, missing files) and a rebuild picked
// up without a restart.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DashboardServer } from './server.js';

let root: string;
let server: DashboardServer;
let base: string;

function build(version: string): void {
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'assets', `main-ABCD${version}.js`), `console.log(${JSON.stringify(version)})`);
  writeFileSync(join(root, 'index.html'), `<!doctype html><script type="module" src="/assets/main-ABCD${version}.js"></script>`);
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'fathom-web-'));
  build('0001');
  const api = {
    handle(req: { url?: string }, res: { writeHead(s: number, h: Record<string, string>): void; end(b: string): void }) {
      if (!req.url?.startsWith('/api/v1/version')) return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"version":"test","platform":"memory"}');
      return true;
    },
  };
  server = await DashboardServer.listen({ host: '127.0.0.1', port: 0 }, { apis: [api as never], webRoot: root });
  base = `http://127.0.0.1:${server.port}`;
});
after(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

test('every view URL answers with the app; assets are served with long caching', async () => {
  for (const path of ['/', '/namespaces/nodevoto', '/namespaces/nodevoto/deployments/web', '/edges?x=1']) {
    const res = await fetch(base + path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(await res.text(), /main-ABCD0001\.js/);
  }
  const js = await fetch(`${base}/assets/main-ABCD0001.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /text\/javascript/);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
});

test('the APIs answer on the same origin; an unknown API path is a 404, not the app', async () => {
  const v = await fetch(`${base}/api/v1/version`);
  assert.equal(v.status, 200);
  assert.deepEqual(await v.json(), { version: 'test', platform: 'memory' });
  const missing = await fetch(`${base}/api/v1/nope`);
  assert.equal(missing.status, 404);
});

test('missing files are 404s; other methods are refused', async () => {
  assert.equal((await fetch(`${base}/assets/nope.js`)).status, 404);
  assert.equal((await fetch(`${base}/favicon.ico`)).status, 404);
  const post = await fetch(`${base}/`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  const head = await fetch(`${base}/edges`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('only loopback Host names are answered (no DNS rebinding)', async () => {
  const status = (host: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/api/v1/version', headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await status(`localhost:${server.port}`), 200);
  assert.equal(await status(`127.0.0.1:${server.port}`), 200);
  assert.equal(await status(`[::1]:${server.port}`), 200);
  assert.equal(await status('evil.example'), 403);
  assert.equal(await status(`evil.example:${server.port}`), 403);
  assert.equal(await status('localhost:1'), 403);
});

test('a rebuild is served on the next page load, without a restart', async () => {
  build('0002');
  const later = new Date(Date.now() + 5_000);
  utimesSync(join(root, 'index.html'), later, later);
  const res = await fetch(`${base}/namespaces/x`);
  assert.match(await res.text(), /main-ABCD0002\.js/);
  assert.equal((await fetch(`${base}/assets/main-ABCD0002.js`)).status, 200);
});

test('without a built front end, pages say how to build it', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'fathom-web-empty-'));
  const bare = await DashboardServer.listen({ host: '127.0.0.1', port: 0 }, { apis: [], webRoot: empty });
  try {
    const res = await fetch(`http://127.0.0.1:${bare.port}/`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /npm run setup/);
  } finally {
    await bare.close();
    rmSync(empty, { recursive: true, force: true });
  }
});

test('a port in use is a clear error', async () => {
  await assert.rejects(DashboardServer.listen({ host: '127.0.0.1', port: server.port }, { apis: [], webRoot: root }), /cannot listen on 127\.0\.0\.1:\d+ for the dashboard: .*EADDRINUSE/);
});
