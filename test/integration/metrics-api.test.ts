// The metrics API end to end, on loopback: real fathom-proxy processes in front of backends with a known
// delay, a real Prometheus scraping them every second with the labels a platform gives pods, a known load
// (20 req/s to web where one request in five fails, 10 req/s to emoji), and the controller's API read by
// `fathom stat`, `routes`, `edges` and `check` through their run() cores.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { run as check } from '../../src/cli/commands/check.js';
import { run as edges } from '../../src/cli/commands/edges.js';
import { run as routes } from '../../src/cli/commands/routes.js';
import { run as stat, type StatArgs } from '../../src/cli/commands/stat.js';
import { memoryIO } from '../../src/cli/io.js';
import { Controller } from '../../src/controller/controller.js';
import { PROXY_JOB } from '../../src/controller/metrics-api/start.js';
import type { PodsResponse, SeriesResponse } from '../../src/controller/metrics-api/types.js';
import { MemoryPlatform } from '../../src/platform/memory/memory-platform.js';
import { toPod, type PodInput } from '../../src/platform/memory/state.js';
import { startPrometheus, prometheusMissing, type PrometheusProcess } from '../helpers/prometheus.js';
import { freePort, PROXY_BIN, waitFor } from '../helpers/proxy.js';

const DELAY_MS = 25;
const WINDOW_S = 15;
/** Long enough for the window to hold a full 15 s of scrapes, plus margin. */
const LOAD_MS = (WINDOW_S + 2) * 1000;

interface Backend {
  readonly server: Server;
  readonly port: number;
}

/** Answers after DELAY_MS; with `failEvery`, every n-th request gets a 500. */
async function startBackend(failEvery: number | undefined): Promise<Backend> {
  let n = 0;
  const server = createServer((req, res) => {
    const fail = failEvery !== undefined && ++n % failEvery === 0;
    req.resume();
    setTimeout(() => res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' }).end(fail ? 'boom\n' : 'ok\n'), DELAY_MS);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Sends `rps` requests a second to `port` over kept-alive connections; records when each response ended. */
function drive(port: number, rps: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const ends: number[] = [];
  const timer = setInterval(() => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => ends.push(Date.now()));
    });
    req.on('error', () => {});
    req.end();
  }, 1000 / rps);
  return {
    /** Responses per second that ended in the window before `at`. */
    rate: (at: number) => ends.filter((t) => t > at - WINDOW_S * 1000 && t <= at).length / WINDOW_S,
    stop: () => (clearInterval(timer), agent.destroy()),
  };
}

interface Proxy {
  readonly inboundPort: number;
  readonly adminPort: number;
  stop(): Promise<void>;
}

/**
 * bin/fathom-proxy in standalone mode in front of `backendPort`. Its ports are found free and then bound
 * by the proxy, and on a busy machine another process may take one in between: then the attempt's
 * process is killed and another made, so that the test neither fails for that nor leaves a process.
 */
async function startProxy(backendPort: number): Promise<Proxy> {
  for (let attempt = 1; ; attempt++) {
    const [inboundPort, outboundPort, adminPort] = [await freePort(), await freePort(), await freePort()];
    const child: ChildProcess = spawn(process.execPath, [PROXY_BIN], {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        FATHOM_PROXY_INBOUND_ADDR: `127.0.0.1:${inboundPort}`,
        FATHOM_PROXY_OUTBOUND_ADDR: `127.0.0.1:${outboundPort}`,
        FATHOM_PROXY_ADMIN_ADDR: `127.0.0.1:${adminPort}`,
        FATHOM_PROXY_INBOUND_DEFAULT_DST: `127.0.0.1:${backendPort}`,
        FATHOM_PROXY_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = once(child, 'exit');
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    };
    try {
      await waitFor(async () => {
        if (child.exitCode !== null || /failed to start/.test(stderr)) throw new Error(`fathom-proxy did not start: ${stderr}`);
        return (await fetch(`http://127.0.0.1:${adminPort}/ready`).catch(() => undefined))?.status === 200;
      }, 10_000, () => `fathom-proxy ready: ${stderr}`);
      return { inboundPort, adminPort, stop };
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      if (attempt >= 3 || !/EADDRINUSE/.test(stderr)) throw err;
    }
  }
}

const PODS: PodInput[] = [
  { namespace: 'nodevoto', name: 'web-5d8f7-abcde', ip: '198.18.0.2', owner: { kind: 'Deployment', name: 'web' }, serviceAccount: 'web', meshed: true },
  { namespace: 'nodevoto', name: 'emoji-6c9a1-fghij', ip: '198.18.0.3', owner: { kind: 'Deployment', name: 'emoji' }, serviceAccount: 'emoji', meshed: true },
  { namespace: 'nodevoto', name: 'vote-bot-7b2e4-klmno', ip: '198.18.0.4', owner: { kind: 'Deployment', name: 'vote-bot' }, serviceAccount: 'default' },
];

const skip = prometheusMissing();

describe('metrics API against a real Prometheus scraping real proxies', { skip, timeout: 90_000 }, () => {
  const backends: Backend[] = [];
  const proxies: Proxy[] = [];
  let prometheus: PrometheusProcess;
  let controller: Controller;
  let stateDir: string;
  let apiAddr: string;
  let sentRate: { web: number; emoji: number };
  // Outputs taken while the load runs, checked by the tests below.
  let statJson: string;
  let statTable: string;
  let podTable: string;
  let routesOut: string;

  before(async () => {
    backends.push(await startBackend(5), await startBackend(undefined));
    for (const b of backends) proxies.push(await startProxy(b.port));
    const labels = (i: number) => ({ namespace: 'nodevoto', pod: PODS[i]!.name, deployment: PODS[i]!.owner!.name, serviceaccount: PODS[i]!.serviceAccount! });
    prometheus = await startPrometheus({ job: PROXY_JOB, targets: proxies.map((p, i) => ({ address: `127.0.0.1:${p.adminPort}`, labels: labels(i) })) });
    stateDir = mkdtempSync(join(tmpdir(), 'fathom-metrics-api-'));
    // The memory platform with the listing the metrics API uses for MESHED.
    const platform = Object.assign(new MemoryPlatform({ pods: PODS }), { listPods: () => PODS.map(toPod) });
    controller = await Controller.start(
      {
        addr: { host: '127.0.0.1', port: 0 },
        stateDir,
        trustDomain: 'cluster.local',
        controlNamespace: 'fathom',
        clusterDomain: 'cluster.local',
        issuanceLifetimeMs: 86_400_000,
        clockSkewMs: 20_000,
        caFiles: undefined,
        defaultOpaquePorts: new Set(),
        apiAddr: { host: '127.0.0.1', port: 0 },
        prometheusUrl: prometheus.url,
      },
      platform,
    );
    apiAddr = `127.0.0.1:${controller.apiPort}`;

    const web = drive(proxies[0]!.inboundPort, 20);
    const emoji = drive(proxies[1]!.inboundPort, 10);
    await sleep(LOAD_MS);
    const at = Date.now();
    sentRate = { web: web.rate(at), emoji: emoji.rate(at) };
    // Queries run while traffic still flows: latency quantiles use the last two scrapes (irate).
    statJson = await statRun({ resource: 'deploy' }, 'json');
    statTable = await statRun({ resource: 'deploy' }, 'table');
    podTable = await statRun({ resource: 'pod', allNamespaces: true }, 'wide');
    routesOut = await cli((io) => routes({ resource: 'deploy/web', namespace: 'nodevoto', to: undefined, toNamespace: undefined, window: '15s', output: 'table', apiAddr, stateDir: undefined }, io));
    web.stop();
    emoji.stop();
  });

  after(async () => {
    await controller?.close();
    await prometheus?.stop();
    await Promise.all(proxies.map((p) => p.stop()));
    for (const b of backends) b.server.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  async function cli(fn: (io: ReturnType<typeof memoryIO>['io']) => Promise<number>, expectedCode = 0): Promise<string> {
    const m = memoryIO();
    const code = await fn(m.io);
    assert.equal(code, expectedCode, `exit code; stderr: ${m.stderr()}`);
    return m.stdout() + m.stderr();
  }

  function statRun(args: Partial<StatArgs>, output: StatArgs['output']): Promise<string> {
    const full: StatArgs = {
      resource: 'deploy', namespace: 'nodevoto', allNamespaces: false, from: undefined, fromNamespace: undefined, to: undefined,
      toNamespace: undefined, window: `${WINDOW_S}s`, output, apiAddr, stateDir: undefined, ...args,
    };
    return cli((io) => stat(full, io));
  }

  test('stat -o json: SUCCESS, RPS and latency agree with the load that was sent', () => {
    const rows = JSON.parse(statJson) as Record<string, unknown>[];
    assert.deepEqual(rows.map((r) => [r['name'], r['meshed'], r['running']]), [['emoji', 1, 1], ['vote-bot', 0, 1], ['web', 1, 1]]);
    const web = rows.find((r) => r['name'] === 'web')!;
    assert.deepEqual(Object.keys(web), ['namespace', 'kind', 'name', 'meshed', 'running', 'success', 'rps', 'latency_ms_p50', 'latency_ms_p95', 'latency_ms_p99', 'tcp_open_connections']);
    assert.equal(web['kind'], 'deployment');
    assert.ok(Math.abs((web['success'] as number) - 0.8) <= 0.05, `success ${web['success']} should be 0.80 ± 0.05`);
    const rps = web['rps'] as number;
    assert.ok(Math.abs(rps - sentRate.web) <= sentRate.web * 0.25, `rps ${rps} should be within 25% of the ${sentRate.web} sent`);
    const p50 = web['latency_ms_p50'] as number;
    assert.ok(p50 >= DELAY_MS - 5 && p50 <= 4 * DELAY_MS, `p50 ${p50}ms should be near the backend's ${DELAY_MS}ms`);
    assert.ok((web['latency_ms_p99'] as number) >= p50);
    assert.ok((web['tcp_open_connections'] as number) >= 1);
    const emoji = rows.find((r) => r['name'] === 'emoji')!;
    assert.equal(emoji['success'], 1);
    assert.ok(Math.abs((emoji['rps'] as number) - sentRate.emoji) <= sentRate.emoji * 0.25, `emoji rps ${emoji['rps']} vs ${sentRate.emoji}`);
    const quiet = rows.find((r) => r['name'] === 'vote-bot')!;
    assert.deepEqual([quiet['success'], quiet['rps'], quiet['latency_ms_p50'], quiet['tcp_open_connections']], [null, null, null, null]);
  });

  test('stat table: Linkerd\'s columns and formats, `-` without traffic', () => {
    const lines = statTable.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+MESHED\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99\s+TCP_CONN$/);
    assert.match(lines[1]!, /^emoji\s+1\/1\s+100\.00%\s+\d+\.\drps\s+\d+ms\s+\d+ms\s+\d+ms\s+\d+$/);
    assert.match(lines[2]!, /^vote-bot\s+0\/1\s+-\s+-\s+-\s+-\s+-\s+-$/);
    assert.match(lines[3]!, /^web\s+1\/1\s+(7[5-9]|8[0-5])\.\d\d%\s+\d+\.\drps\s+\d+ms\s+\d+ms\s+\d+ms\s+\d+$/);
    assert.equal(lines.length, 4);
  });

  test('stat pod -A -o wide: NAMESPACE first, bytes per second last', () => {
    const lines = podTable.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+MESHED\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99\s+TCP_CONN\s+READ_BYTES\/SEC\s+WRITE_BYTES\/SEC$/);
    assert.match(podTable, /^nodevoto\s+web-5d8f7-abcde\s+1\/1\s+\S+%.*\d+\.\dB\/s\s+\d+\.\dB\/s$/m);
  });

  test('routes: every request in [DEFAULT], per authority', () => {
    const lines = routesOut.trimEnd().split('\n');
    assert.match(lines[0]!, /^ROUTE\s+AUTHORITY\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99$/);
    assert.match(lines[1]!, new RegExp(`^\\[DEFAULT\\]\\s+127\\.0\\.0\\.1:${proxies[0]!.inboundPort}\\s+(7[5-9]|8[0-5])\\.\\d\\d%`));
  });

  test('edges: standalone proxies have no discovery labels, so no edge', async () => {
    const out = await cli((io) => edges({ kind: 'deploy', namespace: 'nodevoto', allNamespaces: false, output: 'table', apiAddr, stateDir: undefined }, io));
    assert.equal(out, 'No edges found.\n');
  });

  test('check passes on a healthy control plane; --proxy names the proxies without a certificate', async () => {
    const out = await cli((io) => check({ proxy: false, output: 'table', apiAddr, stateDir: undefined }, io));
    assert.match(out, /^√ Prometheus is running$/m);
    assert.match(out, /^√ Prometheus is scraping its targets$/m);
    assert.match(out, /^√ issuer certificate is valid for at least 60 days$/m);
    assert.match(out, /Status check results are √\n$/);
    const proxy = await cli((io) => check({ proxy: true, output: 'table', apiAddr, stateDir: undefined }, io), 1);
    assert.match(proxy, /^√ proxies are ready$/m);
    assert.match(proxy, /^× proxies are certified\n {4}without a certificate: nodevoto\/emoji-6c9a1-fghij, nodevoto\/web-5d8f7-abcde\n {4}hint: /m);
  });

  test('series (the dashboard\'s charts): points for the traffic sent, success near 80%, all of it plaintext', async () => {
    const res = await fetch(`http://${apiAddr}/api/v1/series?resource=deploy/web&namespace=nodevoto&range=5m`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as SeriesResponse;
    assert.equal(body.step_seconds, 5);
    assert.equal(body.timestamps.length, 61);
    for (const column of [body.success, body.rps_tls, body.rps_plain, body.latency_ms_p50, body.tcp_open_connections]) assert.equal(column.length, body.timestamps.length);
    const success = body.success.filter((v): v is number => v !== null);
    assert.ok(success.length >= 1, JSON.stringify(body.success));
    for (const v of success) assert.ok(Math.abs(v - 0.8) <= 0.1, `success ${v} should be near 0.80`);
    assert.ok(body.rps_plain.some((v) => v !== null && v > 0), 'standalone proxies serve plaintext');
    assert.ok(body.rps_tls.every((v) => v === null || v === 0));
    assert.ok(body.latency_ms_p50.some((v) => v !== null && v >= DELAY_MS - 5));
    const bad = await fetch(`http://${apiAddr}/api/v1/series?resource=deploy&namespace=nodevoto`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /one resource/);
  });

  test('pods: the platform\'s pods with their deployments', async () => {
    const body = (await (await fetch(`http://${apiAddr}/api/v1/pods?namespace=nodevoto`)).json()) as PodsResponse;
    assert.deepEqual(body.pods.map((p) => [p.name, p.deployment]), PODS.map((p) => [p.name, p.owner?.kind === 'Deployment' ? p.owner.name : null]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  });

  test('Prometheus accepts every query shape the API builds', async () => {
    const calls = [
      'stat?resource=pod&all-namespaces=true', 'stat?resource=ns', 'stat?resource=ns/nodevoto', 'stat?resource=authority&namespace=nodevoto',
      'stat?resource=svc/web-svc&namespace=nodevoto', 'stat?resource=svc&from=deploy/web&namespace=nodevoto', 'stat?resource=deploy&to=deploy&namespace=nodevoto',
      'stat?resource=deploy/web&to=ns/other&namespace=nodevoto', 'stat?resource=pod&from=deploy/web&window=1m30s',
      'routes?resource=svc/web-svc&namespace=nodevoto', 'routes?resource=pod/web-5d8f7-abcde&namespace=nodevoto&to=svc/voting-svc',
      'edges?resource=pod&all-namespaces=true', 'edges?resource=deploy&namespace=nodevoto',
      'series?resource=pod/web-5d8f7-abcde&namespace=nodevoto&range=6h', 'series?resource=ns/nodevoto&range=1m', 'pods?all-namespaces=true',
    ];
    for (const call of calls) {
      const res = await fetch(`http://${apiAddr}/api/v1/${call}`);
      assert.equal(res.status, 200, `${call}: ${await res.text()}`);
      await res.arrayBuffer().catch(() => {});
    }
  });

  test('with Prometheus stopped, check fails with a hint and stat says why in one line', async () => {
    await prometheus.stop();
    const out = await cli((io) => check({ proxy: false, output: 'table', apiAddr, stateDir: undefined }, io), 1);
    assert.match(out, /^× Prometheus is running\n {4}cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n {4}hint: 'fathom up' starts Prometheus/m);
    assert.match(out, /Status check results are ×\n$/);
    await assert.rejects(statRun({}, 'table'), /cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});
