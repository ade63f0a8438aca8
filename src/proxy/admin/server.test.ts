import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { acceptsGzip, pathOf, startAdmin, type AdminServer } from './server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A plain node:http request, so tests see raw bytes and headers (fetch would decompress). */
function get(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'some body' : undefined);
  });
}

/** Starts an admin server for one test and closes it afterwards. */
async function withAdmin(
  opts: { render?: () => string; isReady?: () => boolean },
  fn: (admin: AdminServer, logs: string[]) => Promise<void>,
): Promise<void> {
  const logs: string[] = [];
  const admin = await startAdmin({
    host: '127.0.0.1',
    port: 0,
    metrics: { render: opts.render ?? (() => 'up 1\n') },
    isReady: opts.isReady ?? (() => true),
    log: (m) => logs.push(m),
  });
  try {
    await fn(admin, logs);
  } finally {
    await admin.close();
  }
}

test('GET /metrics serves the exposition with the Prometheus content type', async () => {
  await withAdmin({ render: () => '# TYPE up gauge\nup 1\n' }, async ({ port }) => {
    const r = await get(port, '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(r.body.toString(), '# TYPE up gauge\nup 1\n');
    const q = await get(port, '/metrics?name[]=up');
    assert.equal(q.status, 200);
  });
});

test('/metrics is gzipped when asked and large enough', async () => {
  const big = 'x_total{a="b"} 1\n'.repeat(500);
  await withAdmin({ render: () => big }, async ({ port }) => {
    const zipped = await get(port, '/metrics', 'GET', { 'accept-encoding': 'gzip, deflate' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(zipped.body).toString(), big);
    assert.ok(zipped.body.length < big.length / 10);
    const plain = await get(port, '/metrics', 'GET', { 'accept-encoding': 'gzip;q=0' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), big);
  });
});

test('/ready follows isReady, /live is always 200', async () => {
  let ready = false;
  await withAdmin({ isReady: () => ready }, async ({ port }) => {
    let r = await get(port, '/ready');
    assert.equal(r.status, 503);
    assert.equal(r.body.toString(), 'not ready\n');
    ready = true;
    r = await get(port, '/ready');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ready\n');
    r = await get(port, '/live');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'live\n');
  });
});

test('a throwing isReady reads as not ready', async () => {
  await withAdmin({ isReady: () => { throw new Error('boom'); } }, async ({ port }) => {
    assert.equal((await get(port, '/ready')).status, 503);
  });
});

test('unknown paths are 404, other methods 405 with Allow, HEAD has no body', async () => {
  await withAdmin({}, async ({ port }) => {
    for (const path of ['/', '/metricsx', '/metrics/', '/READY', '/%00']) {
      assert.equal((await get(port, path)).status, 404, path);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const r = await get(port, '/metrics', method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    const head = await get(port, '/live', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.body.length, 0);
  });
});

test('a throwing render is a 500 and is logged; the server carries on', async () => {
  let fail = true;
  const render = () => {
    if (fail) throw new Error('registry broke');
    return 'up 1\n';
  };
  await withAdmin({ render }, async ({ port }, logs) => {
    assert.equal((await get(port, '/metrics')).status, 500);
    assert.ok(logs.some((l) => l.includes('registry broke')));
    fail = false;
    assert.equal((await get(port, '/metrics')).status, 200);
  });
});

/** Sends raw bytes and collects whatever comes back until the server closes or a pause. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

test('malformed requests get a 400 and never take the server down', async () => {
  await withAdmin({}, async ({ port }) => {
    assert.match(await raw(port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await raw(port, 'GET /live HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await raw(port, 'GET /live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200/);
    // A client that vanishes mid-request is harmless too.
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write('GET /metr');
        s.destroy();
        resolve();
      });
    });
    assert.equal((await get(port, '/live')).status, 200);
  });
});

test('close() ends idle keep-alive connections and can be called twice', async () => {
  const admin = await startAdmin({ host: '127.0.0.1', port: 0, metrics: { render: () => '' }, isReady: () => true });
  const socket = connect(admin.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.on('connect', resolve));
  socket.write('GET /live HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await Promise.all([admin.close(), admin.close()]);
  await closed;
});

test('listening on a taken port fails with a message naming the address', async () => {
  await withAdmin({}, async ({ port }) => {
    await assert.rejects(
      startAdmin({ host: '127.0.0.1', port, metrics: { render: () => '' }, isReady: () => true }),
      (err: Error & { code?: string }) => err.code === 'EADDRINUSE' && err.message.includes(`127.0.0.1:${port}`),
    );
  });
});

test('pathOf strips queries and accepts absolute-form targets', () => {
  const cases: [string | undefined, string][] = [
    ['/metrics', '/metrics'],
    ['/metrics?x=1', '/metrics'],
    ['/ready#frag', '/ready'],
    ['http://10.0.0.1:4191/live?x', '/live'],
    ['http://host', '/'],
    ['*', '*'],
    [undefined, ''],
  ];
  for (const [input, want] of cases) assert.equal(pathOf(input), want, String(input));
});

test('acceptsGzip reads Accept-Encoding with q-values', () => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['deflate, gzip;q=0.5', true],
    ['gzip;q=0', false],
    ['br', false],
    ['*', true],
  ];
  for (const [input, want] of cases) assert.equal(acceptsGzip(input), want, String(input));
});
