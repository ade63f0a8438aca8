// The checks against a stub context: a healthy mesh passes, each failure carries its hint, warnings do
// not fail, a fatal failure skips what depends on it, and the CA checks read real certificate files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caPaths, loadOrCreateCA } from '../identity/ca.js';
import type { Sample } from '../metrics-api/prometheus.js';
import type { CheckLine, ChecksResponse } from '../metrics-api/types.js';
import { CATEGORIES } from './categories.js';
import type { CheckContext, CheckPrometheus } from './check.js';
import { runChecks } from './runner.js';

const DAY = 24 * 3600 * 1000;
let stateDir: string;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'fathom-checks-'));
  await loadOrCreateCA({ stateDir, trustDomain: 'cluster.local' });
});
after(() => rmSync(stateDir, { recursive: true, force: true }));

function prometheus(answers: Record<string, Sample[]>, ready: true | string = true): CheckPrometheus {
  return {
    url: 'http://127.0.0.1:9',
    ready: async () => ready,
    query: async (q) => {
      if (ready !== true) throw new Error('cannot reach Prometheus at http://127.0.0.1:9: ECONNREFUSED');
      return answers[q] ?? [];
    },
  };
}

const proxy = (pod: string, value: number, extra: Record<string, string> = {}): Sample => ({ labels: { job: 'fathom-proxy', namespace: 'nodevoto', pod, ...extra }, value });

function healthy(now: number): Record<string, Sample[]> {
  return {
    up: [proxy('web-1', 1), { labels: { job: 'prometheus', instance: '127.0.0.1:9095' }, value: 1 }],
    'time()': [{ labels: {}, value: now / 1000 + 1 }],
    'up{job="fathom-proxy"}': [proxy('web-1', 1)],
    'up{job="fathom-proxy"} == 1': [proxy('web-1', 1)],
    'identity_cert_expiration_timestamp_seconds{job="fathom-proxy"}': [proxy('web-1', now / 1000 + 3600)],
    'proxy_build_info{job="fathom-proxy"}': [proxy('web-1', 1, { version: '1.0.0' })],
  };
}

function context(overrides: Partial<CheckContext> = {}, now = Date.now()): CheckContext {
  return {
    now: () => now,
    version: '1.0.0',
    grpcAddr: { host: '127.0.0.1', port: 1 },
    platformKind: 'memory',
    inventory: { pods: () => [], servicePods: () => undefined },
    clockSkewMs: 20_000,
    caFiles: { trustAnchors: caPaths(stateDir).trustAnchorsPem, issuerCert: caPaths(stateDir).issuerCert },
    prometheus: prometheus(healthy(now)),
    proxyJob: 'fathom-proxy',
    client: { version: '1.0.0', timeMs: now },
    ...overrides,
  };
}

const lines = (res: ChecksResponse): [string, string, CheckLine][] => res.categories.flatMap((c) => c.checks.map((l) => [c.name, l.description, l] as [string, string, CheckLine]));
const find = (res: ChecksResponse, description: string) => lines(res).find(([, d]) => d === description)?.[2];

test('a healthy mesh passes every check, data plane included', async () => {
  // The gRPC check needs something listening: this test's own fetch-free server is a plain TCP listener.
  const { createServer } = await import('node:net');
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  try {
    const res = await runChecks(CATEGORIES, context({ grpcAddr: { host: '127.0.0.1', port } }), { proxy: true });
    const failed = lines(res).filter(([, , l]) => l.result !== 'success');
    assert.deepEqual(failed, []);
    assert.equal(res.success, true);
    assert.deepEqual(res.categories.map((c) => c.name), ['fathom-control-plane', 'fathom-identity', 'fathom-prometheus', 'fathom-version', 'fathom-clock', 'fathom-data-plane']);
  } finally {
    server.close();
  }
});

test('Prometheus stopped: an error with its hint, and the data plane skipped with the same hint', async () => {
  const res = await runChecks(CATEGORIES, context({ prometheus: prometheus({}, 'cannot reach Prometheus at http://127.0.0.1:9: ECONNREFUSED') }), { proxy: true });
  assert.equal(res.success, false);
  const running = find(res, 'Prometheus is running')!;
  assert.equal(running.result, 'error');
  assert.match(running.error!, /ECONNREFUSED/);
  assert.match(running.hint!, /fathom up/);
  assert.equal(find(res, 'Prometheus is scraping its targets'), undefined, 'the rest of the category is skipped');
  const skipped = res.categories.find((c) => c.name === 'fathom-data-plane')!.checks;
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0]!.result, 'warning');
  assert.match(skipped[0]!.error!, /"Prometheus is running" failed/);
  assert.equal(find(res, "the control plane's clock agrees with Prometheus's")!.result, 'error');
});

test('data plane: unscraped, uncertified and outdated proxies are named; version drift only warns', async () => {
  const now = Date.now();
  const answers = healthy(now);
  answers['up{job="fathom-proxy"}'] = [proxy('web-1', 1), proxy('web-2', 0)];
  answers['up{job="fathom-proxy"} == 1'] = [proxy('web-1', 1), proxy('emoji-1', 1)];
  answers['proxy_build_info{job="fathom-proxy"}'] = [proxy('web-1', 1, { version: 'dev' })];
  const res = await runChecks(CATEGORIES, context({ prometheus: prometheus(answers) }, now), { proxy: true });
  assert.match(find(res, 'proxies are ready')!.error!, /Prometheus cannot scrape: nodevoto\/web-2/);
  assert.match(find(res, 'proxies are certified')!.error!, /without a certificate: nodevoto\/emoji-1/);
  const version = find(res, 'proxy versions match the control plane')!;
  assert.equal(version.result, 'warning');
  assert.match(version.error!, /not 1\.0\.0: nodevoto\/web-1 \(dev\)/);
  const without = await runChecks(CATEGORIES, context({ prometheus: prometheus(answers) }, now), { proxy: false });
  assert.equal(without.categories.some((c) => c.name === 'fathom-data-plane'), false);
});

test('certificates: expiring within 60 days warns, expired fails; clocks and the CLI version are compared', async () => {
  const soon = Date.now() + 330 * DAY; // the generated CA lasts a year: 35 days left
  const warned = await runChecks(CATEGORIES, context({ prometheus: prometheus(healthy(soon)) }, soon), { proxy: false });
  assert.equal(find(warned, 'trust anchors are valid for at least 60 days')!.result, 'warning');
  assert.match(find(warned, 'issuer certificate is valid for at least 60 days')!.error!, /in 3[45] days/);
  const late = Date.now() + 400 * DAY;
  const expired = await runChecks(CATEGORIES, context({ prometheus: prometheus(healthy(late)) }, late), { proxy: false });
  assert.match(find(expired, 'issuer certificate is within its validity period')!.error!, /expired on/);
  const now = Date.now();
  const skewed = await runChecks(CATEGORIES, context({ client: { version: '0.9.0', timeMs: now + 60_000 } }, now), { proxy: false });
  assert.match(find(skewed, "the CLI's clock agrees with the control plane's")!.error!, /60\.0s ahead \(allowed: 20s\)/);
  assert.equal(find(skewed, 'CLI and control plane versions match')!.result, 'warning');
  const noClient = await runChecks(CATEGORIES, context({ client: {} }), { proxy: false });
  assert.equal(find(noClient, 'CLI and control plane versions match'), undefined);
});
