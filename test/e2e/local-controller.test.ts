// The local platform behind the real controller (`fathom up` without the standalone switch): meshed
// pods get the controller's address, identity name, token and trust anchors, their proxies certify
// through the fence and become ready; the controller's destination service sees the platform's pods as
// endpoints with their identities and follows a rollout; its identity service accepts a service
// account's token and rejects a forged one.
// Needs root; one instance (tag fte203) for the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { tcpAddressToString } from '../../src/api/net-addr.js';
import { DestinationClient, type Update } from '../../src/api/gen/fathom/destination.js';
import { IdentityClient, type CertifyResponse } from '../../src/api/gen/fathom/identity.js';
import { makeCsr, StreamReader, verifyingOptions } from '../helpers/controller.js';
import { needsRoot } from '../helpers/netns.js';
import { parseExposition } from '../../src/lib/prom-text.js';
import { FIXTURES, Instance, sh, waitFor } from './local-helpers.js';

const NS = 'demo';
const CONTROLLER_ID = 'controller.fathom.serviceaccount.identity.fathom.cluster.local';
const HELLO_ID = 'hello.demo.serviceaccount.identity.fathom.cluster.local';

describe('local platform with the controller', needsRoot, () => {
  const mesh = new Instance(203);
  let destination: DestinationClient;
  let identity: IdentityClient;

  before(async () => {
    await mesh.up();
    const creds = credentials.createSsl(readFileSync(join(mesh.stateDir, 'trust-anchors.pem')));
    destination = new DestinationClient(`${mesh.gateway}:8086`, creds, verifyingOptions(CONTROLLER_ID));
    identity = new IdentityClient(`${mesh.gateway}:8086`, creds, verifyingOptions(CONTROLLER_ID));
    const piped = await sh('bash', ['-c', `set -o pipefail; node ../../../bin/fathom inject hello.yaml | node ../../../bin/fathom apply --state-dir ${mesh.stateDir} -f -`], { cwd: FIXTURES });
    assert.equal(piped.code, 0, piped.stderr);
  });
  after(async () => {
    destination?.close();
    identity?.close();
    await mesh.down();
  });

  test('meshed pods start with the controller-mode proxy environment and become ready', async () => {
    const [pod] = await mesh.readyPods(NS, 'hello', 2);
    await mesh.readyPods(NS, 'client', 1);
    const netns = `${mesh.tag}-${NS}.${pod!.metadata.name}`;
    const pids = (await sh('ip', ['netns', 'pids', netns])).stdout.split(/\s+/).filter(Boolean);
    const proxyEnv = pids
      .map((pid) => ({ cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8'), env: readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0') }))
      .find((p) => p.cmd.includes('bin/fathom-proxy') && !p.cmd.includes('init'))?.env;
    assert.ok(proxyEnv, 'no proxy process in the pod');
    assert.ok(proxyEnv.includes(`FATHOM_PROXY_CONTROLLER_ADDR=${mesh.gateway}:8086`));
    assert.ok(proxyEnv.includes(`FATHOM_PROXY_IDENTITY_NAME=${HELLO_ID}`));
    assert.ok(proxyEnv.includes(`FATHOM_PROXY_TRUST_ANCHORS_FILE=${join(mesh.stateDir, 'trust-anchors.pem')}`));
    assert.ok(proxyEnv.includes(`FATHOM_PROXY_DISCOVERY_NETWORKS=${mesh.podCidr},${mesh.serviceCidr}`));
    const tokenFile = proxyEnv.find((e) => e.startsWith('FATHOM_PROXY_IDENTITY_TOKEN_FILE='))!.split('=')[1]!;
    // The proxy's uid, and only it, can read the token.
    const asProxy = await sh('setpriv', ['--reuid=2102', '--regid=2102', '--clear-groups', 'cat', tokenFile]);
    assert.equal(asProxy.code, 0, asProxy.stderr);
    assert.equal(asProxy.stdout, readFileSync(join(mesh.stateDir, 'tokens', 'demo_hello.token'), 'utf8'));
    const asOther = await sh('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', 'cat', tokenFile]);
    assert.notEqual(asOther.code, 0);
  });

  test("each proxy certifies its identity with the controller, using its service account's token", async () => {
    for (const app of ['hello', 'client']) {
      const [pod] = await mesh.readyPods(NS, app, app === 'hello' ? 2 : 1);
      const res = await mesh.exec(pod!.metadata.name, NS, ['curl', '-sf', 'http://127.0.0.1:4191/metrics']);
      const refreshed = parseExposition(res.stdout).find((s) => s.name === 'identity_cert_refresh_count');
      assert.ok(refreshed && refreshed.value >= 1, `${pod!.metadata.name}: no certificate (identity_cert_refresh_count ${refreshed?.value})`);
    }
  });

  test('the client reaches the server through the proxies', async () => {
    await waitFor('client requests answered', async () => /^ok 200 hello-/m.test(await mesh.mustFathom(['logs', 'deploy/client', '-n', NS])));
  });

  test('destination: the pods are endpoints with identities, and a rollout moves them', async () => {
    const pods = await mesh.readyPods(NS, 'hello', 2);
    const stream = new StreamReader<Update>(destination.get({ scheme: '', path: 'hello.demo.svc.cluster.local:80', contextToken: '{"ns":"demo"}' }));
    try {
      const first = await stream.next();
      assert.equal(first.update?.$case, 'add');
      if (first.update?.$case !== 'add') return;
      const addrs = first.update.value.addrs;
      assert.deepEqual(addrs.map((a) => tcpAddressToString(a.addr)).sort(), pods.map((p) => `${p.status.podIP}:8080`).sort());
      for (const a of addrs) {
        assert.equal(a.tlsIdentity?.strategy?.$case === 'dnsLikeIdentity' && a.tlsIdentity.strategy.value.name, HELLO_ID);
        assert.equal(a.metricLabels['deployment'], 'hello');
        assert.ok(a.protocolHint?.protocol?.$case === 'h2');
      }
      await mesh.mustFathom(['rollout', 'restart', 'deploy/hello', '-n', NS]);
      const fresh = new Set((await waitFor('the rollout', async () => {
        const now = await mesh.readyPods(NS, 'hello', 2, 60_000);
        return now.every((p) => !pods.some((o) => o.metadata.name === p.metadata.name)) ? now : undefined;
      }, 60_000)).map((p) => `${p.status.podIP}:8080`));
      const added = new Set<string>();
      const removed = new Set<string>();
      await waitFor('destination updates for the new pods', async () => {
        const u = await stream.next(5000);
        if (u.update?.$case === 'add') u.update.value.addrs.forEach((a) => added.add(tcpAddressToString(a.addr) ?? ''));
        if (u.update?.$case === 'remove') u.update.value.addrs.forEach((a) => removed.add(tcpAddressToString(a) ?? ''));
        return [...fresh].every((a) => added.has(a)) && addrs.every((a) => removed.has(tcpAddressToString(a.addr) ?? ''));
      }, 30_000, 0);
    } finally {
      stream.cancel();
    }
  });

  test('identity: a service account token is accepted, a forged one is not', async () => {
    const token = readFileSync(join(mesh.stateDir, 'tokens', 'demo_hello.token'));
    const certify = (tok: Buffer, csr: Buffer) =>
      new Promise<CertifyResponse>((resolve, reject) =>
        identity.certify({ identity: HELLO_ID, token: tok, certificateSigningRequest: csr }, (err, res) => (err ? reject(err) : resolve(res!))),
      );
    const { der } = await makeCsr(HELLO_ID);
    const res = await certify(token, der);
    assert.ok(res.leafCertificate.length > 0);
    await assert.rejects(certify(Buffer.from('forged'), der), (err: ServiceError) => err.code === status.UNAUTHENTICATED);
  });

  test('mTLS between the proxies: the servers count tls="true" requests from the client\'s identity', async () => {
    const servers = await mesh.readyPods(NS, 'hello', 2);
    let seen = '';
    await waitFor('a tls="true" inbound request with the client identity', async () => {
      const samples = [];
      for (const server of servers) {
        const res = await mesh.exec(server.metadata.name, NS, ['curl', '-sf', 'http://127.0.0.1:4191/metrics']);
        samples.push(...parseExposition(res.stdout).filter((s) => s.name === 'request_total' && s.labels['direction'] === 'inbound'));
      }
      seen = samples.map((s) => `tls=${s.labels['tls']} client_id=${s.labels['client_id'] ?? ''} ${s.value}`).join('; ');
      return samples.some((s) => s.labels['tls'] === 'true' && s.labels['client_id'] === 'default.demo.serviceaccount.identity.fathom.cluster.local');
    }, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}; inbound request_total seen: ${seen}`);
    });
  });
});
