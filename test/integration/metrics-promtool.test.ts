// Checks that what the proxy's admin server exposes is valid Prometheus text, as judged by Prometheus's own
// promtool, with only the findings Linkerd's metric names cause by design.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExposition } from '../../src/lib/prom-text.js';
import { startAdmin } from '../../src/proxy/admin/server.js';
import { ProxyMetrics } from '../../src/proxy/metrics/registry.js';

/**
 * promtool findings we accept, each caused by a name Fathom keeps for Linkerd compatibility (existing
 * PromQL and dashboards query them). Anything else fails the test.
 */
const ACCEPTED_FINDINGS: readonly RegExp[] = [
  // Linkerd measures latency in milliseconds and says so in the name; Prometheus prefers base units.
  /^response_latency_ms metric names should not contain abbreviated units$/,
];

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const noPromtool = promtool.error !== undefined && 'promtool not found (Debian: apt-get install -y prometheus)';

/** A registry with the series a busy meshed pod would have, including awkward label values. */
function populated(): ProxyMetrics {
  const metrics = new ProxyMetrics({ version: '0.1.0' });
  const meshed = { tls: 'true', client_id: 'web.nodevoto.serviceaccount.identity.fathom.cluster.local' };
  const inboundTcp = { direction: 'inbound', peer: 'src', target_addr: '198.18.0.5:8080', ...meshed };
  for (let i = 0; i < 3; i++) {
    const c = metrics.tcpOpen(inboundTcp);
    c.read(512 * (i + 1));
    c.write(2048);
    if (i < 2) c.close(i === 0 ? undefined : 'ECONNRESET');
  }
  const outboundTcp = {
    direction: 'outbound',
    peer: 'dst',
    target_addr: '198.18.0.9:8080',
    tls: 'true',
    server_id: 'voting.nodevoto.serviceaccount.identity.fathom.cluster.local',
    dst_namespace: 'nodevoto',
    dst_service: 'voting-svc',
    dst_deployment: 'voting',
    dst_pod: 'voting-5d8f7-abcde',
    dst_serviceaccount: 'voting',
  };
  const out = metrics.tcpOpen(outboundTcp);
  out.read(10);
  out.write(10);
  const plain = metrics.tcpOpen({
    direction: 'outbound',
    peer: 'dst',
    target_addr: '127.0.0.1:9999',
    tls: 'no_identity',
    no_tls_reason: 'loopback',
  });
  plain.close('ECONNREFUSED');

  const inbound = metrics.http({
    direction: 'inbound',
    authority: 'web-svc.nodevoto.svc.cluster.local:80',
    target_addr: '198.18.0.5:8080',
    ...meshed,
  });
  for (let i = 0; i < 50; i++) {
    inbound.request();
    inbound.response({ statusCode: i % 10 === 0 ? 500 : 200, latencyMs: i * 7.3 });
  }
  const grpc = metrics.http({
    direction: 'outbound',
    authority: 'voting-svc.nodevoto:8080',
    target_addr: '198.18.0.9:8080',
    tls: 'true',
    server_id: outboundTcp.server_id,
    dst_service: 'voting-svc',
  });
  for (const grpcStatus of [0, 0, 0, 2, 5, 14]) {
    grpc.request();
    grpc.response({ statusCode: 200, grpcStatus, latencyMs: 1 + grpcStatus });
  }
  grpc.request();
  grpc.response({ statusCode: 0, latencyMs: 60_000, error: 'connect_refused' });
  const odd = metrics.http({ direction: 'inbound', authority: 'we"ird\\host\nname', tls: 'disabled' });
  odd.request();
  odd.response({ statusCode: 404, latencyMs: 0.25 });
  return metrics;
}

test('the admin server serves metrics that promtool accepts', { skip: noPromtool }, async () => {
  const admin = await startAdmin({ host: '127.0.0.1', port: 0, metrics: populated(), isReady: () => true });
  const dir = mkdtempSync(join(tmpdir(), 'fathom-promtool-'));
  try {
    const res = await fetch(`http://127.0.0.1:${admin.port}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const file = join(dir, 'metrics.txt');
    writeFileSync(file, await res.text());

    const check = spawnSync('promtool', ['check', 'metrics'], { input: readFileSync(file), encoding: 'utf8' });
    const findings = `${check.stdout}\n${check.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    // 0: clean; 3: lint findings only. Anything else (1: the text did not parse) is a failure outright.
    assert.ok(check.status === 0 || check.status === 3, `promtool exited ${check.status}:\n${findings.join('\n')}`);
    const unexpected = findings.filter((f) => !ACCEPTED_FINDINGS.some((p) => p.test(f)));
    assert.deepEqual(unexpected, [], `promtool findings not explained by Linkerd's names (file ${file})`);
  } finally {
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the exposition has no duplicate series and every family is declared', async () => {
  // promtool 2.42 does not report duplicate series, which Prometheus rejects at scrape time.
  const parsed = readExposition(populated().render());
  if (!parsed.ok) assert.fail(`line ${parsed.line}: ${parsed.message}`);
  const seen = new Set<string>();
  for (const s of parsed.samples) {
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    assert.ok(!seen.has(key), `duplicate series ${key}`);
    seen.add(key);
    const family = parsed.types.has(s.name) ? s.name : s.name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(parsed.types.has(family), `no TYPE for ${s.name}`);
    assert.ok(parsed.help.has(family), `no HELP for ${s.name}`);
  }
  const bucket = parsed.samples.filter((s) => s.name === 'response_latency_ms_bucket' && s.labels.status_code === '200');
  assert.ok(bucket.length > 0);
  for (let i = 1; i < bucket.length; i++) {
    if (bucket[i]!.labels.le === '1') continue; // the next series starts
    assert.ok(bucket[i]!.value >= bucket[i - 1]!.value, 'buckets are cumulative');
  }
});
