// Real TLS on loopback between our inbound terminator and our outbound client options, with a throwaway CA.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { connect, createSecureContext, createServer, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ALPN_HTTP1, ALPN_TRANSPORT, outboundClientOptions, peerIdentity } from './context.js';
import { IdentityStore } from './store.js';
import { InboundMtls } from './terminate.js';
import { TestCa } from './test-ca.js';

const WEB = 'web.nodevoto.serviceaccount.identity.fathom.cluster.local';
const EMOJI = 'emoji.nodevoto.serviceaccount.identity.fathom.cluster.local';
const VOTING = 'voting.nodevoto.serviceaccount.identity.fathom.cluster.local';
const DAY = 24 * 3600 * 1000;

let ca: TestCa;
let rogue: TestCa;
const closers: Array<() => void> = [];
before(async () => {
  ca = await TestCa.create();
  rogue = await TestCa.create('identity.rogue.cluster.local');
});
after(() => closers.forEach((close) => close()));

/** A store for `identity` trusting `anchors`, holding a certificate from `issuer` (clock shifted by `skewMs`). */
async function storeFor(identity: string, issuer = ca, options: { skewMs?: number; notBefore?: Date; notAfter?: Date; anchors?: string } = {}) {
  const store = new IdentityStore({
    identity,
    trustAnchorsPem: options.anchors ?? `${ca.trustAnchorPem}${rogue.trustAnchorPem}`,
    now: () => Date.now() + (options.skewMs ?? 0),
  });
  const issued = await issuer.issue(identity, { notBefore: options.notBefore, notAfter: options.notAfter });
  store.update(issued.certChainPem, issued.keyPem);
  return store;
}

interface Inbound {
  port: number;
  errors: Error[];
  events: EventEmitter;
}

/** An inbound listener as the proxy will run it: read the ClientHello (detection), then hand over. Echoes after a greeting. */
async function startInbound(store: IdentityStore): Promise<Inbound> {
  const errors: Error[] = [];
  const events = new EventEmitter();
  const mtls = new InboundMtls(store, {
    onSecure(socket, clientIdentity, alpn) {
      socket.write(`${JSON.stringify({ clientIdentity, alpn })}\n`);
      socket.pipe(socket);
    },
    onError(err) {
      errors.push(err);
      events.emit('tls-error', err);
    },
  });
  const tcp = createTcpServer((socket) => {
    socket.once('data', (hello) => {
      socket.pause();
      mtls.terminate(socket, hello);
    });
  });
  return listen(tcp, { errors, events });
}

async function listen<T extends object>(server: TcpServer, extra: T): Promise<T & { port: number }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => {
    server.close();
    for (const socket of sockets) socket.destroy();
  });
  return { ...extra, port: (server.address() as AddressInfo).port };
}

type Outcome =
  | { ok: true; greeting: { clientIdentity: string; alpn: string }; serverIdentity: string | undefined; alpn: string | false | null; socket: TLSSocket }
  | { ok: false; error: (Error & { code?: string }) | undefined };

/** Connects and resolves with the server's greeting line, or with the failure. */
function dial(port: number, options: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...options });
    let error: Error | undefined;
    let data = '';
    socket.on('error', (err) => (error = err));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      if (!data.includes('\n')) return;
      socket.removeAllListeners('data');
      resolve({ ok: true, greeting: JSON.parse(data.split('\n')[0]!), serverIdentity: peerIdentity(socket), alpn: socket.alpnProtocol, socket });
    });
    socket.on('close', () => resolve({ ok: false, error }));
  });
}

async function expectRefused(outcome: Outcome, code?: RegExp): Promise<void> {
  assert.equal(outcome.ok, false, 'the connection should have failed');
  if (code && !outcome.ok) assert.match(`${outcome.error?.code} ${outcome.error?.message}`, code);
}

async function serverRefused(inbound: Inbound, why: RegExp): Promise<void> {
  const [err] = inbound.errors.length > 0 ? [inbound.errors[0]!] : ((await once(inbound.events, 'tls-error')) as [Error]);
  assert.match(`${(err as Error & { code?: string }).code} ${err.message}`, why);
}

test('mTLS succeeds both ways and each side learns the other identity; ALPN follows the client', async () => {
  const inbound = await startInbound(await storeFor(EMOJI));
  const web = await storeFor(WEB);
  for (const [alpn, want] of [[undefined, 'h2'], [[ALPN_TRANSPORT], 'transport.fathom.io/v1'], [[ALPN_HTTP1], 'http/1.1']] as const) {
    const outcome = await dial(inbound.port, outboundClientOptions(web, EMOJI, alpn));
    assert.ok(outcome.ok, `handshake failed: ${!outcome.ok && outcome.error?.message}`);
    assert.equal(outcome.greeting.clientIdentity, WEB, 'inbound learns client_id');
    assert.equal(outcome.serverIdentity, EMOJI, 'outbound learns server_id');
    assert.equal(outcome.alpn, want);
    assert.equal(outcome.greeting.alpn, want);
    assert.equal(outcome.socket.getProtocol(), 'TLSv1.3');
    outcome.socket.destroy();
  }
  assert.deepEqual(inbound.errors, []);
});

test('a server certificate from an unknown CA is refused by the client', async () => {
  const inbound = await startInbound(await storeFor(EMOJI, rogue));
  const web = await storeFor(WEB, ca, { anchors: ca.trustAnchorPem });
  await expectRefused(await dial(inbound.port, outboundClientOptions(web, EMOJI)), /UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|unable to (verify|get)/i);
});

test('a client certificate from an unknown CA is refused by the server', async () => {
  const inbound = await startInbound(await storeFor(EMOJI, ca, { anchors: ca.trustAnchorPem }));
  const web = await storeFor(WEB, rogue);
  await expectRefused(await dial(inbound.port, outboundClientOptions(web, EMOJI)));
  await serverRefused(inbound, /ECLIENTCERT .*UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
});

test('expired certificates are refused on either side', async () => {
  const expired = { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY), skewMs: -1.5 * DAY };
  const staleServer = await startInbound(await storeFor(EMOJI, ca, expired));
  await expectRefused(await dial(staleServer.port, outboundClientOptions(await storeFor(WEB), EMOJI)), /CERT_HAS_EXPIRED|expired/i);
  const server = await startInbound(await storeFor(EMOJI));
  await expectRefused(await dial(server.port, outboundClientOptions(await storeFor(WEB, ca, expired), EMOJI)));
  await serverRefused(server, /ECLIENTCERT .*CERT_HAS_EXPIRED/);
});

test('a server presenting another identity is refused, even when it answers any SNI', async () => {
  // An impostor holding a valid mesh certificate for voting that accepts connections meant for emoji.
  const votingCert = await ca.issue(VOTING);
  const impostor = createServer({ cert: votingCert.certChainPem, key: votingCert.keyPem, minVersion: 'TLSv1.3' }, (s) => s.end('hello\n'));
  const { port } = await listen(impostor, {});
  await expectRefused(await dial(port, outboundClientOptions(await storeFor(WEB), EMOJI)), /EPEERIDENTITY|expected identity emoji/);
});

test('a certificate smuggling the identity inside a quoted SAN is refused', async () => {
  const sneaky = await ca.issue(VOTING, { dnsNames: [`x, DNS:${EMOJI}`] });
  const impostor = createServer({ cert: sneaky.certChainPem, key: sneaky.keyPem, minVersion: 'TLSv1.3' }, (s) => s.end('hello\n'));
  const { port } = await listen(impostor, {});
  await expectRefused(await dial(port, outboundClientOptions(await storeFor(WEB), EMOJI)), /EPEERIDENTITY/);
});

test('the inbound refuses a ClientHello naming another identity', async () => {
  const inbound = await startInbound(await storeFor(EMOJI));
  const web = await storeFor(WEB);
  await expectRefused(await dial(inbound.port, { ...outboundClientOptions(web, EMOJI), servername: VOTING }));
  await serverRefused(inbound, /ESNI .*voting/);
});

test('a client without a certificate is refused', async () => {
  const inbound = await startInbound(await storeFor(EMOJI));
  const anonymous = createSecureContext({ ca: ca.trustAnchorPem, minVersion: 'TLSv1.3' });
  await expectRefused(await dial(inbound.port, { ...outboundClientOptions(await storeFor(WEB), EMOJI), secureContext: anonymous }));
  await serverRefused(inbound, /PEER_DID_NOT_RETURN_A_CERTIFICATE/);
});

test('a TLS 1.2-only client is refused', async () => {
  const inbound = await startInbound(await storeFor(EMOJI));
  const web = await ca.issue(WEB);
  await expectRefused(
    await dial(inbound.port, { servername: EMOJI, ca: ca.trustAnchorPem, cert: web.certChainPem, key: web.keyPem, maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined }),
    /protocol|version/i,
  );
  await serverRefused(inbound, /protocol|version/i);
});

test('after a store update new connections present the new certificate; open ones carry on', async () => {
  const emoji = await storeFor(EMOJI);
  const inbound = await startInbound(emoji);
  const web = await storeFor(WEB);
  const first = await dial(inbound.port, outboundClientOptions(web, EMOJI));
  assert.ok(first.ok);
  const oldSerial = first.socket.getPeerCertificate().serialNumber;
  const renewed = await ca.issue(EMOJI);
  emoji.update(renewed.certChainPem, renewed.keyPem);
  const second = await dial(inbound.port, outboundClientOptions(web, EMOJI));
  assert.ok(second.ok);
  const newSerial = second.socket.getPeerCertificate().serialNumber;
  assert.notEqual(newSerial, oldSerial);
  assert.equal(newSerial, emoji.certificate!.leaf.serialNumber);
  // The connection opened before the renewal still works.
  first.socket.write('ping');
  const [echo] = (await once(first.socket, 'data')) as [Buffer];
  assert.equal(echo.toString(), 'ping');
  first.socket.destroy();
  second.socket.destroy();
});

test('before a certificate arrives, outbound mTLS is unavailable and inbound refuses', async () => {
  const pending = new IdentityStore({ identity: EMOJI, trustAnchorsPem: ca.trustAnchorPem });
  assert.throws(() => outboundClientOptions(pending, WEB), { code: 'ENOIDENTITY' });
  const inbound = await startInbound(pending);
  await expectRefused(await dial(inbound.port, outboundClientOptions(await storeFor(WEB), EMOJI)));
  await serverRefused(inbound, /before it has a certificate/);
});
