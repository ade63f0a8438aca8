// Opaque TCP through the real proxy: reached by protocol detection (binary first bytes, or a silent
// client after the detect timeout) or by an opaque-port setting (no detection at all). Bytes pass
// verbatim, half-close is honoured, server-speaks-first protocols work, and the byte counters move.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { freePort, startProxyProcess, waitFor, type ProxyProcess } from '../helpers/proxy.js';
import { closeServer, listenLoopback, LOOPBACK, sha256 } from '../helpers/raw.js';

const MiB = 1024 * 1024;
const BANNER = '+OK fathom-test ready\r\n';

type Behaviour = (socket: Socket) => void;

/** Echoes everything back as it arrives; ends its side after the client's FIN, once all is sent. */
const echo: Behaviour = (socket) => socket.pipe(socket);

/** Answers only after the client's FIN: everything it received, then "bye", then its own FIN. */
const replyAfterFin: Behaviour = (socket) => {
  const parts: Buffer[] = [];
  socket.on('data', (d: Buffer) => parts.push(d));
  socket.on('end', () => {
    socket.write(Buffer.concat(parts));
    socket.end('bye');
  });
};

/** Server-speaks-first, redis-like: a banner on connect, then PONG for each PING line. */
const bannerFirst: Behaviour = (socket) => {
  socket.write(BANNER);
  let pending = '';
  socket.on('data', (d: Buffer) => {
    pending += d.toString('latin1');
    for (let i = pending.indexOf('\r\n'); i >= 0; i = pending.indexOf('\r\n')) {
      socket.write(pending.slice(0, i) === 'PING' ? '+PONG\r\n' : '-ERR unknown\r\n');
      pending = pending.slice(i + 2);
    }
  });
  socket.on('end', () => socket.end());
};

/** Starts a TCP backend with `behaviour` and a proxy whose outbound default destination is it. */
async function backendBehindProxy(t: TestContext, behaviour: Behaviour, env: (port: number) => Record<string, string>): Promise<{ port: number; proxy: ProxyProcess }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    behaviour(socket);
  });
  const port = await listenLoopback(server);
  const proxy = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `${LOOPBACK}:${port}`, ...env(port) });
  t.after(async () => {
    await proxy.stop();
    await closeServer(server, sockets);
  });
  return { port, proxy };
}

/** Opaque-port settings: the backend's port listed, or a list that leaves it out (detection runs). */
const opaque = (port: number) => ({ FATHOM_PROXY_OPAQUE_PORTS: `${port}` });
const detected = () => ({ FATHOM_PROXY_OPAQUE_PORTS: '1' });

async function dial(port: number): Promise<Socket> {
  const socket = connect({ host: LOOPBACK, port, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/** Collects what the socket receives until the peer's FIN. */
async function readToEnd(socket: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  socket.on('data', (d: Buffer) => parts.push(d));
  await once(socket, 'end');
  return Buffer.concat(parts);
}

/** Reads until `n` bytes arrived (or the peer ends). */
function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= n) done();
    };
    const done = () => {
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      resolve(Buffer.concat(parts));
    };
    const onEnd = () => (got >= n ? done() : reject(new Error(`peer ended after ${got} of ${n} bytes`)));
    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}

async function echo8MiB(proxy: ProxyProcess): Promise<void> {
  const data = randomBytes(8 * MiB);
  data[0] = 0x00; // binary from the first byte: not HTTP, not TLS
  const socket = await dial(proxy.outboundPort);
  const received = readToEnd(socket);
  socket.end(data);
  const got = await received;
  socket.destroy();
  assert.equal(got.length, data.length);
  assert.equal(sha256(got), sha256(data));
}

test('detection: binary first bytes are forwarded as TCP, 8 MiB echoed verbatim, bytes counted', async (t) => {
  const { proxy } = await backendBehindProxy(t, echo, detected);
  await echo8MiB(proxy);
  const labels = { direction: 'outbound', tls: 'disabled' };
  for (const peer of ['src', 'dst']) {
    assert.ok((await proxy.metric('tcp_read_bytes_total', { ...labels, peer })) >= 8 * MiB, `tcp_read_bytes_total peer=${peer}`);
    assert.ok((await proxy.metric('tcp_write_bytes_total', { ...labels, peer })) >= 8 * MiB, `tcp_write_bytes_total peer=${peer}`);
    assert.equal(await proxy.metric('tcp_open_total', { ...labels, peer }), 1);
  }
  assert.equal(await proxy.metric('request_total'), 0, 'opaque traffic is not counted as HTTP');
});

test('opaque port: no detection, 8 MiB echoed verbatim', async (t) => {
  const { proxy } = await backendBehindProxy(t, echo, opaque);
  await echo8MiB(proxy);
  assert.ok((await proxy.metric('tcp_write_bytes_total', { direction: 'outbound', peer: 'dst' })) >= 8 * MiB);
});

for (const [name, env] of [['detected', detected], ['opaque port', opaque]] as const) {
  test(`half-close (${name}): after its FIN the client still receives the reply and then the server's FIN`, async (t) => {
    const { proxy } = await backendBehindProxy(t, replyAfterFin, env);
    const data = randomBytes(MiB);
    data[0] = 0x01;
    const socket = await dial(proxy.outboundPort);
    const received = readToEnd(socket);
    socket.end(data);
    const got = await received;
    socket.destroy();
    assert.equal(got.length, data.length + 3);
    assert.equal(sha256(got.subarray(0, data.length)), sha256(data));
    assert.equal(got.subarray(data.length).toString(), 'bye');
  });
}

/** Says hello and half-closes at once, then counts what the client still sends and reports it in a log. */
const received = { bytes: 0, sha: '' };
const finFirst: Behaviour = (socket) => {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.end('hello, I am done talking\n');
  socket.on('data', (d: Buffer) => {
    bytes += d.length;
    hash.update(d);
  });
  socket.on('end', () => {
    received.bytes = bytes;
    received.sha = hash.digest('hex');
    socket.destroy();
  });
};

for (const [name, env] of [['detected', detected], ['opaque port', opaque]] as const) {
  test(`half-close (${name}): after the server's FIN the client can still send 8 MiB, all of which arrives`, async (t) => {
    const { proxy } = await backendBehindProxy(t, finFirst, env);
    const data = randomBytes(8 * MiB);
    data[0] = 0x02;
    const socket = await dial(proxy.outboundPort);
    socket.write(data.subarray(0, 1)); // settles detection on the detect path
    const greeting = await readToEnd(socket);
    assert.equal(greeting.toString(), 'hello, I am done talking\n');
    received.bytes = -1;
    socket.end(data.subarray(1));
    await once(socket, 'close');
    await waitFor(() => received.bytes >= 0, 5000, () => 'the server to see the end of the upload');
    assert.equal(received.bytes, data.length);
    assert.equal(received.sha, sha256(data));
  });
}

test('half-close during detection: a short text message and an immediate FIN still reach the server', async (t) => {
  const { proxy } = await backendBehindProxy(t, replyAfterFin, detected);
  const socket = await dial(proxy.outboundPort);
  const received = readToEnd(socket);
  socket.end('hello there'); // could still become an HTTP request line when the FIN arrives
  assert.equal((await received).toString(), 'hello therebye');
  socket.destroy();
});

test('server speaks first on an opaque port: the banner arrives before the client sends anything', async (t) => {
  const { proxy } = await backendBehindProxy(t, bannerFirst, opaque);
  const socket = await dial(proxy.outboundPort);
  const start = performance.now();
  assert.equal((await readBytes(socket, BANNER.length)).toString(), BANNER);
  assert.ok(performance.now() - start < 2000, 'no detection delay on an opaque port');
  socket.write('PING\r\n');
  assert.equal((await readBytes(socket, 7)).toString(), '+PONG\r\n');
  socket.end();
  await once(socket, 'close');
});

test('detect timeout: a silent client to a server-speaks-first backend is forwarded as TCP after 300 ms', async (t) => {
  const { proxy } = await backendBehindProxy(t, bannerFirst, () => ({ ...detected(), FATHOM_PROXY_DETECT_TIMEOUT: '300ms' }));
  const socket = await dial(proxy.outboundPort);
  const start = performance.now();
  assert.equal((await readBytes(socket, BANNER.length)).toString(), BANNER);
  const waited = performance.now() - start;
  assert.ok(waited >= 250 && waited < 5000, `banner after ${waited.toFixed(0)} ms`);
  socket.write('PING\r\n');
  assert.equal((await readBytes(socket, 7)).toString(), '+PONG\r\n');
  socket.end();
  await once(socket, 'close');
  assert.match(proxy.logs(), /protocol detection timed out/);
});

test('a TCP destination that refuses the connection: the client connection is reset', async () => {
  const closed = await freePort();
  const proxy = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `${LOOPBACK}:${closed}`, ...opaque(closed) });
  try {
    // The reset may arrive before the client has even seen its connect complete: either way it is a reset.
    const socket = connect(proxy.outboundPort, LOOPBACK);
    const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(await proxy.metric('tcp_close_total', { direction: 'outbound', peer: 'src' }), 1);
  } finally {
    await proxy.stop();
  }
});
