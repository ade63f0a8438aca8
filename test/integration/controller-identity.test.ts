// The Identity service over real gRPC with TLS: issuance checked with Node's own X.509 and TLS, every
// kind of refusal with its gRPC code and message, and the CA kept across restarts or given by the user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { CertifyRequest, CertifyResponse } from '../../src/api/gen/fathom/identity.js';
import { generateCA } from '../../src/controller/identity/ca.js';
import { privateKeyToPem, type CryptoKeyPair } from '../../src/controller/identity/x509.js';
import { MemoryPlatform } from '../../src/platform/memory/memory-platform.js';
import { makeCsr, startController, type Clients, type InProcessController } from '../helpers/controller.js';

const WEB = 'web.nodevoto.serviceaccount.identity.fathom.cluster.local';
const TOKEN = 'token-of-web';
const HOUR = 3600_000;

let c: InProcessController;

before(async () => {
  const platform = new MemoryPlatform({ tokens: { [TOKEN]: { namespace: 'nodevoto', serviceAccount: 'web' } } });
  c = await startController({ platform });
});

after(async () => {
  await c.close();
});

function certify(clients: Clients, req: Partial<CertifyRequest>): Promise<CertifyResponse> {
  const full: CertifyRequest = { identity: '', token: Buffer.alloc(0), certificateSigningRequest: Buffer.alloc(0), ...req };
  return new Promise((resolve, reject) => clients.identity.certify(full, (err, res) => (err ? reject(err) : resolve(res!))));
}

const pem = (der: Uint8Array) => new X509Certificate(Buffer.from(der));

test('Certify issues a 24 h leaf for the identity, chained to the trust anchor, for server and client auth', async () => {
  const { der } = await makeCsr(WEB);
  const before = Date.now();
  const res = await certify(c.clients, { identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: der });
  const leaf = pem(res.leafCertificate);
  assert.equal(res.intermediateCertificates.length, 1);
  const issuer = pem(res.intermediateCertificates[0]!);
  const anchor = new X509Certificate(c.controller.trustAnchorsPem);

  assert.ok(leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey), 'the leaf is signed by the issuer');
  assert.ok(issuer.checkIssued(anchor) && issuer.verify(anchor.publicKey), 'the issuer is signed by the trust anchor');
  assert.equal(leaf.subjectAltName, `DNS:${WEB}`);
  assert.equal(leaf.subject, `CN=${WEB}`);
  assert.deepEqual([...(leaf.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(leaf.ca, false);

  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  assert.ok(Math.abs(from - (before - 20_000)) < 2_000, `starts 20 s early: ${leaf.validFrom}`);
  assert.ok(Math.abs(to - from - (24 * HOUR + 40_000)) < 2_000, `lasts 24 h plus the skew at both ends: ${leaf.validFrom} to ${leaf.validTo}`);
  assert.equal(res.validUntil?.getTime(), to);
});

async function tlsPair(keys: CryptoKeyPair, res: CertifyResponse) {
  const chain = [res.leafCertificate, ...res.intermediateCertificates].map((d) => pem(d).toString()).join('');
  return { key: await privateKeyToPem(keys.privateKey), cert: chain };
}

test('issued certificates work for mutual TLS in Node, with the identity as server name', async () => {
  const db = 'db.nodevoto.serviceaccount.identity.fathom.cluster.local';
  c.platform.setToken('token-of-db', { namespace: 'nodevoto', serviceAccount: 'db' });
  const serverCsr = await makeCsr(db);
  const clientCsr = await makeCsr(WEB, { cn: '' });
  const server = await tlsPair(serverCsr.keys, await certify(c.clients, { identity: db, token: Buffer.from('token-of-db'), certificateSigningRequest: serverCsr.der }));
  const client = await tlsPair(clientCsr.keys, await certify(c.clients, { identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: clientCsr.der }));

  const anchors = c.controller.trustAnchorsPem;
  const tlsServer = createServer({ ...server, ca: anchors, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (s) => {
    s.end((s.getPeerCertificate() as { subjectaltname?: string }).subjectaltname ?? 'none');
  });
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  const port = (tlsServer.address() as { port: number }).port;
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: db, ca: anchors, ...client, minVersion: 'TLSv1.3' });
  await once(socket, 'secureConnect');
  assert.equal(socket.authorized, true);
  let seen = '';
  socket.setEncoding('utf8').on('data', (d: string) => (seen += d));
  await once(socket, 'end');
  assert.equal(seen, `DNS:${WEB}`, 'the server saw the client identity');
  tlsServer.close();
});

const refusals: Array<[string, () => Promise<Partial<CertifyRequest>>, status, RegExp]> = [
  ['missing identity', async () => ({ token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(WEB)).der }), status.INVALID_ARGUMENT, /^missing identity$/],
  ['missing token', async () => ({ identity: WEB, certificateSigningRequest: (await makeCsr(WEB)).der }), status.INVALID_ARGUMENT, /^missing token$/],
  ['missing CSR', async () => ({ identity: WEB, token: Buffer.from(TOKEN) }), status.INVALID_ARGUMENT, /^missing certificate_signing_request$/],
  [
    'a malformed CSR',
    async () => ({ identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: Buffer.from('not a CSR at all') }),
    status.INVALID_ARGUMENT,
    /certificate_signing_request is not a DER PKCS#10 request/,
  ],
  [
    'a malformed identity',
    async () => ({ identity: 'web.nodevoto', token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr('web.nodevoto')).der }),
    status.INVALID_ARGUMENT,
    /"web\.nodevoto" is not a Fathom identity name/,
  ],
  [
    'a bad token',
    async () => ({ identity: WEB, token: Buffer.from('forged'), certificateSigningRequest: (await makeCsr(WEB)).der }),
    status.UNAUTHENTICATED,
    /^token rejected: the token is not known to the platform$/,
  ],
  [
    'an identity other than the token’s',
    async () => {
      const other = 'emoji.nodevoto.serviceaccount.identity.fathom.cluster.local';
      return { identity: other, token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(other)).der };
    },
    status.FAILED_PRECONDITION,
    /does not match the token, which is for service account "web" in namespace "nodevoto"/,
  ],
  [
    'a CSR for another identity',
    async () => ({
      identity: WEB,
      token: Buffer.from(TOKEN),
      certificateSigningRequest: (await makeCsr(WEB, { cn: '', dnsNames: ['emoji.nodevoto.serviceaccount.identity.fathom.cluster.local'] })).der,
    }),
    status.FAILED_PRECONDITION,
    /names "emoji\.nodevoto\.serviceaccount\.identity\.fathom\.cluster\.local", not the requested identity/,
  ],
  [
    'a CSR with two SANs',
    async () => ({ identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(WEB, { dnsNames: [WEB, 'evil.example.com'] })).der }),
    status.FAILED_PRECONDITION,
    /must name exactly one DNS SAN.*it names 2: ".*", "evil\.example\.com"/,
  ],
  [
    'a CSR with an IP SAN',
    async () => ({ identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(WEB, { ips: ['10.0.0.1'] })).der }),
    status.FAILED_PRECONDITION,
    /names ip "10\.0\.0\.1"; only one DNS name/,
  ],
  [
    'a CSR with another common name',
    async () => ({ identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(WEB, { cn: 'admin' })).der }),
    status.FAILED_PRECONDITION,
    /common name "admin" must be empty or the identity/,
  ],
  [
    'another trust domain',
    async () => {
      const id = 'web.nodevoto.serviceaccount.identity.fathom.example.org';
      return { identity: id, token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(id)).der };
    },
    status.FAILED_PRECONDITION,
    /is not in this mesh: expected the suffix "\.identity\.fathom\.cluster\.local"/,
  ],
];

for (const [what, request, code, message] of refusals) {
  test(`Certify refuses ${what}: ${status[code]}`, async () => {
    await assert.rejects(certify(c.clients, await request()), (err: ServiceError) => {
      assert.equal(err.code, code, err.details);
      assert.match(err.details, message);
      return true;
    });
  });
}

test('Certify is UNAVAILABLE when the platform cannot review tokens', async () => {
  c.platform.tokenReviewError = new Error('API server unreachable');
  try {
    await assert.rejects(certify(c.clients, { identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(WEB)).der }), (err: ServiceError) => {
      assert.equal(err.code, status.UNAVAILABLE);
      assert.match(err.details, /cannot review the token with the memory platform: API server unreachable/);
      return true;
    });
  } finally {
    c.platform.tokenReviewError = undefined;
  }
});

test('the generated CA is kept in the state directory (keys 0600) and reused after a restart', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'fathom-ca-'));
  try {
    const platform = () => new MemoryPlatform({ tokens: { [TOKEN]: { namespace: 'nodevoto', serviceAccount: 'web' } } });
    const first = await startController({ stateDir, platform: platform() });
    const anchors = first.controller.trustAnchorsPem;
    await first.close();
    for (const key of ['trust-anchor.key', 'issuer.key']) assert.equal(statSync(join(stateDir, 'identity', key)).mode & 0o777, 0o600, key);
    assert.equal(readFileSync(join(stateDir, 'trust-anchors.pem'), 'utf8'), anchors);

    const second = await startController({ stateDir, platform: platform() });
    try {
      assert.equal(second.controller.trustAnchorsPem, anchors, 'the same trust anchor after a restart');
      const res = await certify(second.clients, { identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(WEB)).der });
      assert.ok(pem(res.intermediateCertificates[0]!).verify(new X509Certificate(anchors).publicKey));
    } finally {
      await second.close();
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a CA given as files (SEC1 issuer key) is used, and a mismatched one is refused at start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-user-ca-'));
  try {
    const ca = await generateCA('cluster.local', new Date());
    const files = { trustAnchor: join(dir, 'ca.crt'), issuerCert: join(dir, 'issuer.crt'), issuerKey: join(dir, 'issuer.key') };
    writeFileSync(files.trustAnchor, ca.trustAnchors[0]!.toString('pem'));
    writeFileSync(files.issuerCert, ca.issuerCert.toString('pem'));
    const sec1 = createPrivateKey(await privateKeyToPem(ca.issuerKey)).export({ type: 'sec1', format: 'pem' });
    writeFileSync(files.issuerKey, sec1, { mode: 0o600 });

    const platform = new MemoryPlatform({ tokens: { [TOKEN]: { namespace: 'nodevoto', serviceAccount: 'web' } } });
    const given = await startController({ platform, caFiles: files });
    try {
      assert.equal(new X509Certificate(given.controller.trustAnchorsPem).fingerprint256, new X509Certificate(readFileSync(files.trustAnchor)).fingerprint256);
      const res = await certify(given.clients, { identity: WEB, token: Buffer.from(TOKEN), certificateSigningRequest: (await makeCsr(WEB)).der });
      assert.equal(pem(res.intermediateCertificates[0]!).fingerprint256, new X509Certificate(readFileSync(files.issuerCert)).fingerprint256);
    } finally {
      await given.close();
    }

    const stranger = await generateCA('cluster.local', new Date());
    writeFileSync(files.trustAnchor, stranger.trustAnchors[0]!.toString('pem'));
    await assert.rejects(startController({ platform: new MemoryPlatform(), caFiles: files }), /issuer "CN=issuer\.fathom\.cluster\.local" is not signed by any trust anchor/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
