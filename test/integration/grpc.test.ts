// gRPC (@grpc/grpc-js client and server) through the real proxy: the four call kinds, error statuses with
// messages and trailing metadata, 4 MiB messages, deadlines, through one proxy (outbound) and through two
// chained (outbound → inbound), and the proxy's own gRPC errors and metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { freePort, ROOT, startProxyProcess, waitFor, type ProxyProcess } from '../helpers/proxy.js';

interface EchoRequest {
  message?: string;
  payload?: Buffer;
  count?: number;
  failCode?: number;
  failMessage?: string;
  delayMs?: number;
}
interface EchoReply {
  message: string;
  payload: Buffer;
  index: number;
}
type Callback = (err: grpc.ServiceError | null, reply?: EchoReply) => void;
interface EchoClient extends grpc.Client {
  Unary(req: EchoRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback): grpc.ClientUnaryCall;
  ServerStream(req: EchoRequest, md?: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientReadableStream<EchoReply>;
  ClientStream(md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback): grpc.ClientWritableStream<EchoRequest>;
  Bidi(md?: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
}
type EchoClientCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => EchoClient;

const definition = protoLoader.loadSync(`${ROOT}test/fixtures/grpc/echo.proto`, { defaults: true });
const pkg = grpc.loadPackageDefinition(definition) as unknown as { fathom: { test: { Echo: EchoClientCtor & { service: grpc.ServiceDefinition } } } };
const Echo = pkg.fathom.test.Echo;
const MAX_MESSAGE = 16 << 20;
const CHANNEL_OPTIONS = { 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE };

/** Trailing metadata the server adds to every call, success or failure. */
function serverTrailers(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-custom-trailer', 'trailing-value');
  md.set('x-binary-trailer-bin', Buffer.from([0, 1, 2, 255]));
  return md;
}

interface EchoServer {
  port: number;
  /** Calls the server saw cancelled by the client (deadline or reset). */
  cancelled: number;
  server: grpc.Server;
}

async function startEchoServer(): Promise<EchoServer> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const state: EchoServer = { port: 0, cancelled: 0, server };
  const failure = (req: EchoRequest): Partial<grpc.StatusObject> | undefined =>
    req.failCode ? { code: req.failCode, details: req.failMessage ?? '', metadata: serverTrailers() } : undefined;
  server.addService(Echo.service, {
    Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      call.on('cancelled', () => state.cancelled++);
      const answer = () => {
        if (call.cancelled) return;
        const fail = failure(call.request);
        if (fail) cb(fail);
        else cb(null, { message: call.request.message ?? '', payload: call.request.payload ?? Buffer.alloc(0), index: 0 }, serverTrailers());
      };
      if (call.request.delayMs) {
        const timer = setTimeout(answer, call.request.delayMs);
        call.on('cancelled', () => clearTimeout(timer));
      } else answer();
    },
    ServerStream(call: grpc.ServerWritableStream<EchoRequest, EchoReply>) {
      call.on('cancelled', () => state.cancelled++);
      for (let i = 0; i < (call.request.count ?? 0); i++) call.write({ message: `${call.request.message} #${i}`, payload: Buffer.alloc(0), index: i });
      const fail = failure(call.request);
      if (fail) call.emit('error', fail);
      else call.end(serverTrailers());
    },
    ClientStream(call: grpc.ServerReadableStream<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      const parts: string[] = [];
      call.on('data', (req: EchoRequest) => parts.push(req.message ?? ''));
      call.on('end', () => cb(null, { message: parts.join(','), payload: Buffer.alloc(0), index: parts.length }, serverTrailers()));
    },
    Bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) {
      let i = 0;
      call.on('data', (req: EchoRequest) => call.write({ message: `echo ${req.message}`, payload: req.payload ?? Buffer.alloc(0), index: i++ }));
      call.on('end', () => call.end(serverTrailers()));
    },
  });
  state.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  return state;
}

interface UnaryResult {
  reply?: EchoReply;
  error?: grpc.ServiceError;
  trailers?: grpc.Metadata;
}

function unary(client: EchoClient, req: EchoRequest, opts: grpc.CallOptions = {}): Promise<UnaryResult> {
  return new Promise((resolve) => {
    let trailers: grpc.Metadata | undefined;
    let result: UnaryResult | undefined;
    const finish = () => {
      if (result && trailers) resolve({ ...result, trailers });
    };
    const call = client.Unary(req, new grpc.Metadata(), opts, (error, reply) => {
      result = error ? { error } : { reply };
      if (error) trailers = error.metadata;
      finish();
    });
    call.on('status', (s: grpc.StatusObject) => {
      trailers = s.metadata;
      finish();
    });
  });
}

describe('gRPC through the proxy', { timeout: 60_000 }, () => {
  let server: EchoServer;
  let single: ProxyProcess;
  let inbound: ProxyProcess;
  let outbound: ProxyProcess;
  let dead: ProxyProcess;

  before(async () => {
    server = await startEchoServer();
    const serverAddr = `127.0.0.1:${server.port}`;
    [single, inbound, dead] = await Promise.all([
      startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: serverAddr }),
      startProxyProcess({ FATHOM_PROXY_INBOUND_DEFAULT_DST: serverAddr }),
      startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${await freePort()}` }),
    ]);
    // Chained: the app's outbound proxy sends to the server pod's inbound proxy, which sends to the app.
    outbound = await startProxyProcess({ FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${inbound.inboundPort}` });
  });

  after(async () => {
    await Promise.all([single?.stop(), inbound?.stop(), outbound?.stop(), dead?.stop()]);
    server?.server.forceShutdown();
  });

  const topologies: Array<[string, () => number]> = [
    ['one proxy (outbound)', () => single.outboundPort],
    ['two proxies (outbound → inbound)', () => outbound.outboundPort],
  ];
  for (const [name, port] of topologies) {
    describe(name, () => {
      let client: EchoClient;
      before(() => {
        client = new Echo(`127.0.0.1:${port()}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      });
      after(() => client?.close());

      test('unary, with custom trailing metadata', async () => {
        const r = await unary(client, { message: 'hello' });
        assert.equal(r.error, undefined);
        assert.equal(r.reply?.message, 'hello');
        assert.deepEqual(r.trailers?.get('x-custom-trailer'), ['trailing-value']);
        assert.deepEqual(r.trailers?.get('x-binary-trailer-bin'), [Buffer.from([0, 1, 2, 255])]);
      });

      test('server streaming: 100 messages then trailers', async () => {
        const call = client.ServerStream({ message: 'item', count: 100 });
        const got: EchoReply[] = [];
        call.on('data', (r: EchoReply) => got.push(r));
        const status = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
        assert.equal(status.code, grpc.status.OK);
        assert.equal(got.length, 100);
        assert.equal(got[99]?.message, 'item #99');
        assert.deepEqual(status.metadata.get('x-custom-trailer'), ['trailing-value']);
      });

      test('client streaming: 50 messages, one reply', async () => {
        const reply = await new Promise<EchoReply>((resolve, reject) => {
          const call = client.ClientStream(new grpc.Metadata(), {}, (err, r) => (err ? reject(err) : resolve(r!)));
          for (let i = 0; i < 50; i++) call.write({ message: String(i) });
          call.end();
        });
        assert.equal(reply.index, 50);
        assert.equal(reply.message, Array.from({ length: 50 }, (_, i) => String(i)).join(','));
      });

      test('bidi streaming: 20 ping-pongs, each answered before the next is sent', async () => {
        const call = client.Bidi();
        const replies: EchoReply[] = [];
        const next = () => new Promise<EchoReply>((resolve) => call.once('data', resolve));
        for (let i = 0; i < 20; i++) {
          const reply = next();
          call.write({ message: `ping ${i}` });
          replies.push(await reply);
        }
        call.end();
        const status = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
        assert.equal(status.code, grpc.status.OK);
        assert.deepEqual(replies.map((r) => r.message), Array.from({ length: 20 }, (_, i) => `echo ping ${i}`));
      });

      test('an error status arrives with its message and trailing metadata', async () => {
        const r = await unary(client, { failCode: grpc.status.INVALID_ARGUMENT, failMessage: 'the vote was not a known emoji: 🤷' });
        assert.equal(r.error?.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(r.error?.details, 'the vote was not a known emoji: 🤷');
        assert.deepEqual(r.trailers?.get('x-custom-trailer'), ['trailing-value']);
        const internal = await unary(client, { failCode: grpc.status.INTERNAL, failMessage: 'boom' });
        assert.equal(internal.error?.code, grpc.status.INTERNAL);
        const stream = client.ServerStream({ message: 'x', count: 3, failCode: grpc.status.NOT_FOUND, failMessage: 'gone' });
        let n = 0;
        stream.on('data', () => n++);
        stream.on('error', () => {});
        const status = await new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
        assert.equal(status.code, grpc.status.NOT_FOUND);
        assert.equal(status.details, 'gone');
        assert.equal(n, 3);
      });

      test('a 4 MiB message each way', async () => {
        const payload = randomBytes(4 << 20);
        const r = await unary(client, { message: 'big', payload });
        assert.equal(r.error, undefined);
        assert.ok(r.reply?.payload.equals(payload));
        const call = client.Bidi();
        const reply = new Promise<EchoReply>((resolve) => call.once('data', resolve));
        call.write({ message: 'big', payload });
        assert.ok((await reply).payload.equals(payload));
        call.end();
      });

      test('an expired deadline gives DEADLINE_EXCEEDED and cancels the server call', async () => {
        const cancelledBefore = server.cancelled;
        const started = Date.now();
        const r = await unary(client, { message: 'slow', delayMs: 5000 }, { deadline: Date.now() + 300 });
        assert.equal(r.error?.code, grpc.status.DEADLINE_EXCEEDED);
        assert.ok(Date.now() - started < 2000);
        await waitFor(() => server.cancelled > cancelledBefore, 3000, () => 'the server call to be cancelled');
      });
    });
  }

  test('the proxy answers UNAVAILABLE with a message when the endpoint is down', async () => {
    const client = new Echo(`127.0.0.1:${dead.outboundPort}`, grpc.credentials.createInsecure());
    const r = await unary(client, { message: 'anyone?' });
    client.close();
    assert.equal(r.error?.code, grpc.status.UNAVAILABLE);
    assert.equal(r.error?.details, 'connection refused');
    assert.deepEqual(r.error?.metadata.get('fathom-proxy-error'), ['connection refused']);
  });

  test('metrics count gRPC responses by grpc_status, classified as Linkerd does', async () => {
    for (const [proxy, direction] of [[single, 'outbound'], [inbound, 'inbound'], [outbound, 'outbound']] as const) {
      const count = (labels: Record<string, string>) => proxy.metric('response_total', { direction, ...labels });
      assert.ok((await count({ grpc_status: '0', classification: 'success' })) >= 6, `${direction}: OK responses`);
      assert.equal(await count({ grpc_status: '3', classification: 'success' }), 1, `${direction}: INVALID_ARGUMENT is the app answering`);
      assert.equal(await count({ grpc_status: '5', classification: 'success' }), 1, `${direction}: NOT_FOUND in trailers`);
      assert.equal(await count({ grpc_status: '13', classification: 'failure' }), 1, `${direction}: INTERNAL is a failure`);
    }
    assert.equal(await dead.metric('response_total', { grpc_status: '14', classification: 'failure' }), 1);
  });
});
