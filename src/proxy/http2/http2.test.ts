// The HTTP/2 proxy in process, behind real protocol detection: the detection prefix must reach the
// session however the client's first bytes were split (Node reads the socket's native handle, see
// http2.ts), and drain() must close connections in two GOAWAY steps without losing a stream.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { logger } from '../../lib/log.js';
import { detectProtocol } from '../detect/detect.js';
import { ProxyMetrics } from '../metrics/registry.js';
import { ConnectionTracker } from '../transport/connections.js';
import { Http1Pool } from '../http/pool.js';
import { EndpointTarget } from '../target/endpoint.js';
import { FixedSelector } from '../target/selector.js';
import { Http2Proxy } from './http2.js';
import { clientSessionOptions } from './limits.js';
import { Http2Pool } from './pool.js';
import {
  FrameType, getRequest, headerBlock, headersFrame, PREFACE, RawH2Client, settingsFrame, staticStatus,
} from '../../../test/helpers/h2frames.js';

let backend: Http2Server;
let listener: Server;
let proxy: Http2Proxy;
let port: number;

before(async () => {
  backend = createH2Server();
  backend.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const delay = headers[':path'] === '/slow' ? 300 : 0;
    setTimeout(() => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200 });
      stream.end('done');
    }, delay);
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const endpoint = { host: '127.0.0.1', port: (backend.address() as AddressInfo).port };
  const metrics = new ProxyMetrics();
  const tracker = new ConnectionTracker(metrics);
  const limits = { maxHeaderListSize: 64 * 1024, maxConcurrentStreams: 100 };
  proxy = new Http2Proxy({
    metrics,
    log: logger('test'),
    maxHeaderBytes: 64 * 1024,
    idleTimeoutMs: 60_000,
    limits,
    pool: new Http2Pool({ connectTimeoutMs: 1000, idleTimeoutMs: 3000, sessionOptions: clientSessionOptions(limits), tracker, log: logger('test'), store: undefined }),
    h1Pool: new Http1Pool({ idleTimeoutMs: 3000, connectTimeoutMs: 1000, tracker }),
    inbound: false,
  });
  const key = `127.0.0.1:${endpoint.port}`;
  const selector = new FixedSelector(
    new EndpointTarget({
      addr: endpoint,
      addrKey: key,
      labels: { direction: 'outbound', target_addr: key, tls: 'disabled' },
      connLabels: { direction: 'outbound', peer: 'dst', target_addr: key, tls: 'disabled' },
    }),
  );
  listener = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    detectProtocol(socket, 1000, (err, d) => {
      if (err || d?.protocol !== 'h2') return void socket.destroy();
      proxy.serve(socket, d.prefix, { selector });
    });
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  port = (listener.address() as AddressInfo).port;
});

after(() => {
  listener.close();
  proxy.destroy();
  backend.close();
});

/** Writes `bytes` split as asked: all at once, or one byte per write with a pause in between. */
async function sendSplit(bytes: Buffer, oneByOne: boolean): Promise<RawH2Client> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  await once(socket, 'connect');
  const client = RawH2Client.attach(socket);
  if (!oneByOne) socket.write(bytes);
  else {
    client.autoAck = false; // an acknowledgement must not land inside a half-written frame
    for (const b of bytes) {
      socket.write(Buffer.from([b]));
      await new Promise((r) => setTimeout(r, 1));
    }
    client.autoAck = true;
    client.send(settingsFrame([], true));
  }
  return client;
}

for (const oneByOne of [false, true]) {
  test(`the detection prefix reaches the HTTP/2 session (${oneByOne ? 'preface sent byte by byte' : 'preface, SETTINGS and HEADERS in one write'})`, async () => {
    const firstFlight = Buffer.concat([PREFACE, settingsFrame([]), headersFrame(1, headerBlock(getRequest('a', '/')), { endStream: true })]);
    const client = await sendSplit(firstFlight, oneByOne);
    const reply = await client.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1, 3000);
    assert.equal(staticStatus(reply.payload), 200);
    client.close();
  });
}

test('drain: GOAWAY(2^31-1), a PING round trip, GOAWAY(last stream); the stream in flight completes', async () => {
  const client = await RawH2Client.connect(port);
  client.send(headersFrame(1, headerBlock(getRequest('a', '/slow')), { endStream: true }));
  await new Promise((r) => setTimeout(r, 50));
  proxy.drain();
  const goaways = () => client.frames.filter((f) => f.type === FrameType.GOAWAY).map((f) => f.payload.readUInt32BE(0));
  await client.waitFor((f) => f.type === FrameType.GOAWAY && f.payload.readUInt32BE(0) === 1, 3000);
  assert.deepEqual(goaways(), [2 ** 31 - 1, 1]);
  const reply = await client.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1, 3000);
  assert.equal(staticStatus(reply.payload), 200);
  await client.waitClosed(3000);
});
