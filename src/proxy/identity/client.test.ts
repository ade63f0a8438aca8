// The identity client against a real controller over gRPC with TLS (in-process, memory platform):
// certification, renewal, recovery after the controller comes up, refusals, and the controller's identity.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { startController, type InProcessController } from '../../../test/helpers/controller.js';
import { eventually, recordingLogger, Relay } from '../discover/testing.js';
import { IdentityStore } from '../tls/store.js';
import { refreshDelayMs, startIdentity, type IdentityClient, type IdentityOptions } from './client.js';

const WEB = 'web.nodevoto.serviceaccount.identity.fathom.cluster.local';
const TOKEN = 'token-of-web';

let c: InProcessController;
const started: IdentityClient[] = [];

before(async () => {
  c = await startController();
  c.platform.setToken(TOKEN, { namespace: 'nodevoto', serviceAccount: 'web' });
});

after(async () => {
  for (const client of started) client.close();
  await c.close();
});

function start(
  controller: InProcessController,
  extra: Partial<IdentityOptions> = {},
): { client: IdentityClient; store: IdentityStore; log: ReturnType<typeof recordingLogger> } {
  const store = new IdentityStore({ identity: WEB, trustAnchorsPem: controller.controller.trustAnchorsPem });
  const log = recordingLogger();
  const client = startIdentity({
    controllerAddr: { host: '127.0.0.1', port: controller.controller.port },
    controllerIdentity: controller.controller.identity,
    trustAnchorsPem: controller.controller.trustAnchorsPem,
    identity: WEB,
    token: async () => Buffer.from(TOKEN),
    store,
    log,
    ...extra,
  });
  started.push(client);
  return { client, store, log };
}

const failures = (log: { lines: string[] }) => log.lines.filter((l) => l.startsWith('warn cannot certify'));

test('renewal is at 70 % of the remaining validity, within [min, max]', () => {
  const cases: Array<[number, number, number]> = [
    // [remaining ms, min, expected]
    [24 * 3600_000, 10_000, 60_480_000],
    [10_000, 1_000, 7_000],
    [5_000, 10_000, 10_000],
    [-1_000, 10_000, 10_000],
    [1_000_000 * 3600_000, 10_000, 24 * 3600_000],
  ];
  for (const [remaining, min, expected] of cases) assert.equal(refreshDelayMs(1e12 + remaining, 1e12, min, 24 * 3600_000), expected, `${remaining}`);
});

test('certifies: not ready before; then the store serves a certificate for the identity that verifies against the trust anchor', async () => {
  const { client, store, log } = start(c);
  assert.equal(client.isReady(), false);
  assert.equal(store.ready, false);
  assert.equal(client.expirationTimestampSeconds(), undefined);
  await client.ready;
  assert.equal(client.isReady(), true);
  assert.equal(client.refreshCount(), 1);
  const held = store.certificate!;
  assert.equal(held.leaf.subjectAltName, `DNS:${WEB}`);
  assert.equal(client.expirationTimestampSeconds(), Date.parse(held.leaf.validTo) / 1000);
  assert.ok(client.expirationTimestampSeconds()! > Date.now() / 1000 + 23 * 3600, 'a 24 h certificate');
  assert.ok(log.lines.some((l) => l.startsWith('info certified identity')));

  // A TLS client that trusts only the anchor accepts the chain the store serves, for this name.
  const server = createServer({ SNICallback: (_name, cb) => cb(null, store.current!) });
  server.on('secureConnection', (s: TLSSocket) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, servername: WEB, ca: c.controller.trustAnchorsPem });
  await once(socket, 'secureConnect');
  assert.equal(socket.authorized, true);
  assert.equal(socket.getPeerCertificate().subjectaltname, `DNS:${WEB}`);
  socket.destroy();
  server.close();
});

test('renews before expiry; a failed renewal keeps the old certificate and retries after the minimum interval', async () => {
  // Leaves valid for 1 s + 2 s of skew each side: renewal due about 2 s after each issuance.
  const short = await startController({ issuanceLifetimeMs: 1_000, clockSkewMs: 2_000 });
  short.platform.setToken(TOKEN, { namespace: 'nodevoto', serviceAccount: 'web' });
  let tokenOk = true;
  try {
    const { client, store, log } = start(short, { minRefreshMs: 100, token: async () => Buffer.from(tokenOk ? TOKEN : 'revoked') });
    await client.ready;
    const first = store.certificate!.leaf;
    const firstExpiry = client.expirationTimestampSeconds()!;
    tokenOk = false;
    await eventually('failed renewals', () => failures(log).length >= 2, 5_000);
    assert.match(failures(log)[0]!, /UNAUTHENTICATED.*"retryInMs":100/);
    assert.equal(store.certificate!.leaf, first, 'the old certificate stays in use');
    assert.equal(client.isReady(), true);
    assert.equal(client.refreshCount(), 1);
    tokenOk = true;
    await eventually('a renewal', () => client.refreshCount() >= 2, 2_000);
    assert.notEqual(store.certificate!.leaf.serialNumber, first.serialNumber, 'a new certificate is in use');
    assert.ok(client.expirationTimestampSeconds()! > firstExpiry);
    client.close();
  } finally {
    await short.close();
  }
});

test('controller down at start, up later: retries with backoff and becomes ready', async () => {
  const relay = await Relay.start(undefined);
  try {
    const { client, log } = start(c, { controllerAddr: { host: '127.0.0.1', port: relay.port }, backoff: { minMs: 20, maxMs: 200 } });
    await eventually('failed attempts', () => failures(log).length >= 3);
    assert.equal(client.isReady(), false);
    assert.match(failures(log)[0]!, /UNAVAILABLE/);
    relay.target = c.controller.port;
    await Promise.race([client.ready, eventually('never', () => false, 3_000)]);
    assert.equal(client.isReady(), true);
    client.close();
  } finally {
    await relay.close();
  }
});

test('a rejected or unreadable token: keeps retrying with the reason logged, never ready', async () => {
  const { client, store, log } = start(c, { token: async () => Buffer.from('not-a-token'), backoff: { minMs: 10, maxMs: 50 } });
  await eventually('failed attempts', () => failures(log).length >= 3);
  assert.match(failures(log)[0]!, /UNAUTHENTICATED: token rejected/);
  assert.equal(client.isReady(), false);
  assert.equal(store.ready, false);
  client.close();

  const unreadable = start(c, { token: () => Promise.reject(new Error('ENOENT: no such file')), backoff: { minMs: 10, maxMs: 50 } });
  await eventually('failed attempts', () => failures(unreadable.log).length >= 2);
  assert.match(failures(unreadable.log)[0]!, /cannot read the service account token: ENOENT/);
  assert.equal(unreadable.client.isReady(), false);
  unreadable.client.close();
});

test("the controller's identity is verified: another name, or another mesh's anchor, is refused", async () => {
  const impostorName = start(c, { controllerIdentity: 'impostor.fathom.serviceaccount.identity.fathom.cluster.local', backoff: { minMs: 10, maxMs: 50 } });
  const other = await startController();
  other.platform.setToken(TOKEN, { namespace: 'nodevoto', serviceAccount: 'web' });
  try {
    // A controller of another mesh (its own CA) where ours should be: its certificate chains to no anchor we trust.
    const otherMesh = start(c, { controllerAddr: { host: '127.0.0.1', port: other.controller.port }, backoff: { minMs: 10, maxMs: 50 } });
    await eventually('failed attempts', () => failures(impostorName.log).length >= 2 && failures(otherMesh.log).length >= 2);
    assert.match(failures(impostorName.log)[0]!, /UNAVAILABLE.*(altnames|does not match)/i);
    assert.match(failures(otherMesh.log)[0]!, /UNAVAILABLE.*unable to get local issuer certificate/);
    assert.equal(impostorName.client.isReady(), false);
    assert.equal(otherMesh.client.isReady(), false);
    impostorName.client.close();
    otherMesh.client.close();
  } finally {
    await other.close();
  }
});
