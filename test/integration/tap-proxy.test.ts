// The proxy's Tap server over mTLS with certificates from a real controller: only the controller's identity
// may tap, events of a TapHub the test feeds stream to it, a call's end removes its watcher; a real proxy
// process with a control plane serves tap on FATHOM_PROXY_TAP_ADDR; and the controller's tap API reaches
// such a server over mTLS all the way to `fathom tap`'s lines.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status, type experimental, type ServiceError } from '@grpc/grpc-js';
import { TapClient, type ObserveRequest, type TapEvent } from '../../src/api/gen/fathom/tap.js';
import { memoryIO } from '../../src/cli/io.js';
import { run as tapRun } from '../../src/cli/commands/tap.js';
import { Issuer } from '../../src/controller/identity/issuer.js';
import { generateP256, privateKeyToPem } from '../../src/controller/identity/x509.js';
import { TapApi } from '../../src/controller/tap/api.js';
import { GrpcTapSource } from '../../src/controller/tap/source.js';
import { MemoryPlatform } from '../../src/platform/memory/memory-platform.js';
import { toPod, type PodInput } from '../../src/platform/memory/state.js';
import { recordingLogger } from '../../src/proxy/discover/testing.js';
import { TapHub } from '../../src/proxy/tap/hub.js';
import { inboundSourceLabels, NO_TAP_LABELS, type TapRequest } from '../../src/proxy/tap/request.js';
import { startTapServer, type RunningTapServer } from '../../src/proxy/tap/server.js';
import { IdentityStore } from '../../src/proxy/tls/store.js';
import { startController, StreamReader, verifyingOptions, type InProcessController } from '../helpers/controller.js';
import { freePort, startProxyProcess, waitFor, type ProxyProcess } from '../helpers/proxy.js';

const WEB = 'web.nodevoto.serviceaccount.identity.fathom.cluster.local';
const TOKEN = 'token-of-web';

interface Leaf {
  certPem: string;
  keyPem: string;
}

let c: InProcessController;
let issuer: Issuer;
let controllerLeaf: Leaf;

async function issue(identity: string): Promise<Leaf> {
  const keys = await generateP256();
  const issued = await issuer.issue(identity, keys.publicKey);
  return { certPem: [issued.leaf, ...issued.intermediates].map((x) => x.toString('pem')).join('\n') + '\n', keyPem: await privateKeyToPem(keys.privateKey) };
}

/** A Tap client presenting `leaf` (none: no client certificate) and expecting the server to be `serverIdentity`. */
function tapClient(port: number, leaf: Leaf | undefined, serverIdentity = WEB): TapClient {
  const anchors = Buffer.from(c.controller.trustAnchorsPem);
  const creds = leaf ? credentials.createSsl(anchors, Buffer.from(leaf.keyPem), Buffer.from(leaf.certPem)) : credentials.createSsl(anchors);
  return new TapClient(`127.0.0.1:${port}`, creds, verifyingOptions(serverIdentity));
}

/** The call's error status, or 'open' once the server sent its headers (the observation is in place). */
function outcome(client: TapClient, request: Partial<ObserveRequest>): Promise<{ code: status | 'open'; details: string; reader: StreamReader<TapEvent> }> {
  const call = client.observe({ limit: 10, match: undefined, extract: undefined, ...request });
  const reader = new StreamReader(call);
  return new Promise((resolve) => {
    call.on('metadata', () => resolve({ code: 'open', details: '', reader }));
    call.on('error', (err: ServiceError) => resolve({ code: err.code, details: err.details, reader }));
  });
}

before(async () => {
  c = await startController();
  c.platform.setToken(TOKEN, { namespace: 'nodevoto', serviceAccount: 'web' });
  issuer = new Issuer(c.controller.ca, { lifetimeMs: 3600_000, clockSkewMs: 20_000 });
  controllerLeaf = await issue(c.controller.identity);
});

after(async () => {
  await c.close();
});

describe('the Tap server in-process, fed by the test', () => {
  const hub = new TapHub({ base: 4242 });
  let server: RunningTapServer;

  before(async () => {
    const store = new IdentityStore({ identity: WEB, trustAnchorsPem: c.controller.trustAnchorsPem });
    const web = await issue(WEB);
    store.update(web.certPem, web.keyPem);
    server = await startTapServer({ addr: { host: '127.0.0.1', port: 0 }, store, controllerIdentity: c.controller.identity, hub, log: recordingLogger() });
  });

  after(async () => {
    await server.close();
  });

  const request = (path: string): TapRequest => ({
    direction: 'inbound',
    source: { ip: '127.0.0.1', port: 50000, labels: inboundSourceLabels('true', 'vote-bot.nodevoto.serviceaccount.identity.fathom.cluster.local') },
    destination: { ip: '127.0.0.1', port: 8080, labels: NO_TAP_LABELS },
    method: 'GET',
    scheme: 'http',
    authority: 'web-svc.nodevoto:8080',
    path,
  });

  test('the controller taps: matching events stream, and the call ends once its limit is reported', async () => {
    const client = tapClient(server.port, controllerLeaf);
    const match = { match: { $case: 'http' as const, value: { match: { $case: 'path' as const, value: { match: { $case: 'prefix' as const, value: '/api' } } } } } };
    const { code, reader } = await outcome(client, { limit: 2, match });
    assert.equal(code, 'open');
    assert.equal(hub.watcherCount, 1);
    assert.equal(hub.active, true);
    assert.equal(hub.requestInit(request('/health')), undefined, 'not matched');
    const a = hub.requestInit(request('/api/list'));
    const b = hub.requestInit(request('/api/vote'));
    assert.equal(hub.active, false, 'limit reached: the data path stops tapping');
    hub.responseInit(a, 200);
    hub.responseEnd(a, 10);
    hub.responseInit(b, 500);
    hub.responseEnd(b, 0, undefined, 2);
    const kinds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const e = await reader.next();
      const http = e.event?.$case === 'http' ? e.event.value.event : undefined;
      kinds.push(`${http?.$case} ${http?.value.id?.base}:${http?.value.id?.stream}`);
      assert.equal(e.sourceMeta?.labels.client_id, 'vote-bot.nodevoto.serviceaccount.identity.fathom.cluster.local');
    }
    assert.deepEqual(kinds, ['requestInit 4242:1', 'requestInit 4242:2', 'responseInit 4242:1', 'responseEnd 4242:1', 'responseInit 4242:2', 'responseEnd 4242:2']);
    await once(reader.stream, 'end');
    assert.equal(hub.watcherCount, 0);
    client.close();
  });

  test('the stream ending on the client side removes the watcher', async () => {
    const client = tapClient(server.port, controllerLeaf);
    const { code, reader } = await outcome(client, { limit: 100 });
    assert.equal(code, 'open');
    assert.equal(hub.active, true);
    reader.cancel();
    await waitFor(() => hub.watcherCount === 0, 5_000, () => 'the watcher to go');
    assert.equal(hub.active, false);
    client.close();
  });

  test('any other identity is PERMISSION_DENIED; bad requests are INVALID_ARGUMENT', async () => {
    const other = tapClient(server.port, await issue(WEB));
    const denied = await outcome(other, {});
    assert.equal(denied.code, status.PERMISSION_DENIED);
    assert.match(denied.details, new RegExp(`served to ${c.controller.identity} only, not to ${WEB}`));
    other.close();

    const client = tapClient(server.port, controllerLeaf);
    const zero = await outcome(client, { limit: 0 });
    assert.deepEqual([zero.code, zero.details], [status.INVALID_ARGUMENT, 'limit must be positive']);
    const bad = await outcome(client, { match: { match: { $case: 'all', value: { matches: [{ match: undefined }] } } } });
    assert.equal(bad.code, status.INVALID_ARGUMENT);
    assert.match(bad.details, /invalid match: an empty match/);
    client.close();
    assert.equal(hub.watcherCount, 0);
  });

  test('without a client certificate the handshake fails', async () => {
    const anonymous = tapClient(server.port, undefined);
    const r = await outcome(anonymous, {});
    assert.equal(r.code, status.UNAVAILABLE);
    anonymous.close();
    assert.equal(hub.watcherCount, 0);
  });

  test("the controller's tap API reaches it over mTLS, and `fathom tap` prints the events", async () => {
    const pod: PodInput = { namespace: 'nodevoto', name: 'web-1', ip: '127.0.0.1', owner: { kind: 'Deployment', name: 'web' }, serviceAccount: 'web', meshed: true };
    const platform = Object.assign(new MemoryPlatform({ pods: [pod] }), { listPods: () => [toPod(pod)] });
    const tls: experimental.CertificateProvider = {
      addCaCertificateListener: (l) => queueMicrotask(() => l({ caCertificate: Buffer.from(c.controller.trustAnchorsPem) })),
      removeCaCertificateListener: () => {},
      addIdentityCertificateListener: (l) => queueMicrotask(() => l({ certificate: Buffer.from(controllerLeaf.certPem), privateKey: Buffer.from(controllerLeaf.keyPem) })),
      removeIdentityCertificateListener: () => {},
    };
    const api = new TapApi({ platform, source: new GrpcTapSource(tls), trustDomain: 'cluster.local', controlNamespace: 'fathom', tapPort: server.port });
    const http: Server = createServer((req, res) => void (api.handle(req, res) || res.writeHead(404).end()));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const abort = new AbortController();
    const out = memoryIO();
    const args = { resource: 'deploy/web', namespace: 'nodevoto', to: undefined, toNamespace: undefined, method: undefined, path: undefined, authority: undefined, scheme: undefined, maxRps: 100, output: 'table' as const };
    const running = tapRun({ ...args, apiAddr: `127.0.0.1:${(http.address() as { port: number }).port}`, stateDir: undefined, signal: abort.signal }, out.io);
    await waitFor(() => hub.watcherCount === 1, 5_000, () => `a watcher; stderr: ${out.stderr()}`);
    const id = hub.requestInit(request('/api/list'));
    hub.responseInit(id, 200);
    hub.responseEnd(id, 42);
    await waitFor(() => out.stdout().split('\n').length > 3, 5_000, () => `three lines: ${out.stdout()}`);
    abort.abort();
    assert.equal(await running, 0);
    assert.match(out.stdout().split('\n')[0]!, /^req id=4242:\d+ proxy=in {2}src=127\.0\.0\.1:50000 dst=127\.0\.0\.1:8080 tls=true :method=GET :authority=web-svc\.nodevoto:8080 :path=\/api\/list$/);
    assert.match(out.stdout().split('\n')[1]!, /^rsp id=4242:\d+ proxy=in {2}src=127\.0\.0\.1:50000 dst=127\.0\.0\.1:8080 tls=true :status=200 latency=\d+µs$/);
    assert.match(out.stdout().split('\n')[2]!, /^end id=4242:\d+ proxy=in {2}src=127\.0\.0\.1:50000 dst=127\.0\.0\.1:8080 tls=true duration=\d+µs response-length=42B$/);
    await waitFor(() => hub.watcherCount === 0, 5_000, () => 'the proxy watcher to go once the CLI stopped');
    http.close();
  });
});

describe('a real proxy process with a control plane', () => {
  let dir: string;
  let proxy: ProxyProcess;
  let tapPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fathom-tap-'));
    writeFileSync(join(dir, 'token'), TOKEN);
    writeFileSync(join(dir, 'anchors.pem'), c.controller.trustAnchorsPem);
    tapPort = await freePort();
    proxy = await startProxyProcess({
      FATHOM_PROXY_CONTROLLER_ADDR: `127.0.0.1:${c.controller.port}`,
      FATHOM_PROXY_CONTROLLER_IDENTITY: c.controller.identity,
      FATHOM_PROXY_IDENTITY_NAME: WEB,
      FATHOM_PROXY_IDENTITY_TOKEN_FILE: join(dir, 'token'),
      FATHOM_PROXY_TRUST_ANCHORS_FILE: join(dir, 'anchors.pem'),
      FATHOM_PROXY_TAP_ADDR: `127.0.0.1:${tapPort}`,
    });
  });

  after(async () => {
    await proxy?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves tap with its certified identity to the controller only', async () => {
    const client = tapClient(tapPort, controllerLeaf);
    const ok = await outcome(client, { limit: 5 });
    assert.equal(ok.code, 'open', `the controller may tap: ${ok.details}`);
    ok.reader.cancel();
    const zero = await outcome(client, { limit: 0 });
    assert.deepEqual([zero.code, zero.details], [status.INVALID_ARGUMENT, 'limit must be positive']);
    client.close();

    const other = tapClient(tapPort, await issue('vote-bot.nodevoto.serviceaccount.identity.fathom.cluster.local'));
    assert.equal((await outcome(other, {})).code, status.PERMISSION_DENIED);
    other.close();

    const wrongServer = tapClient(tapPort, controllerLeaf, 'emoji.nodevoto.serviceaccount.identity.fathom.cluster.local');
    assert.equal((await outcome(wrongServer, {})).code, status.UNAVAILABLE, 'the proxy presents its own identity, not another');
    wrongServer.close();
    assert.match(proxy.logs(), /refused a tap client/);
  });
});
