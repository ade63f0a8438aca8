// `fathom stat`, `routes`, `edges` and `check` through runCli, against the real metrics API server fed
// canned Prometheus answers: exact tables and JSON, the API address from flag or environment, usage
// errors, and the one-line error (or failed check) when the control plane is not running.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { memoryIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/main.js';
import type { CheckContext } from '../../src/controller/checks/check.js';
import { parseResult, type Sample } from '../../src/controller/metrics-api/prometheus.js';
import { MetricsApi, MetricsApiServer } from '../../src/controller/metrics-api/server.js';
import { toPod } from '../../src/platform/memory/state.js';
import { freePort } from '../helpers/proxy.js';

const vec = (metric: Record<string, string>, value: string) => ({ metric, value: [0, value] });
const web = { namespace: 'nodevoto', deployment: 'web' };
const voting = { namespace: 'nodevoto', deployment: 'voting' };
const id = (sa: string) => `${sa}.nodevoto.serviceaccount.identity.fathom.cluster.local`;

/** Answers by the query's shape (first match wins): what Prometheus would say for the demo app over 1m. */
const ANSWERS: [RegExp, unknown[]][] = [
  [/^sum\(increase\(response_total/, [
    vec({ ...web, classification: 'success', tls: 'true' }, '1140'),
    vec({ ...web, classification: 'failure', tls: 'true' }, '60'),
    vec({ ...voting, classification: 'success', tls: 'true' }, '51'),
    vec({ ...voting, classification: 'failure', tls: 'true' }, '9'),
  ]],
  [/^histogram_quantile\(0\.5,/, [vec(web, '3.2'), vec(voting, '1.4')]],
  [/^histogram_quantile\(0\.95,/, [vec(web, '9.5'), vec(voting, '4.75')]],
  [/^histogram_quantile\(0\.99,/, [vec(web, '19.9'), vec(voting, '9.5')]],
  // edges: outbound by both ends, inbound by client identity
  [/^sum\(tcp_open_connections\{.*direction="outbound", dst_deployment!=""/, [
    vec({ ...web, dst_namespace: 'nodevoto', dst_deployment: 'voting', serviceaccount: 'web', server_id: id('voting'), tls: 'true' }, '1'),
    vec({ namespace: 'nodevoto', deployment: 'vote-bot', dst_namespace: 'nodevoto', dst_deployment: 'web', tls: 'no_identity', no_tls_reason: 'not_provided_by_service_discovery' }, '2'),
  ]],
  [/^sum\(tcp_open_connections\{.*tls="true"/, [vec({ ...voting, client_id: id('web') }, '1')]],
  [/^sum\(tcp_open_connections/, [vec(web, '3'), vec(voting, '1')]],
  [/^sum\(increase\(tcp_read_bytes_total/, [vec(web, '30000')]],
  [/^sum\(increase\(tcp_write_bytes_total/, [vec(web, '60000')]],
];

const PODS = [
  toPod({ namespace: 'nodevoto', name: 'web-1', owner: { kind: 'Deployment', name: 'web' }, meshed: true }),
  toPod({ namespace: 'nodevoto', name: 'voting-1', owner: { kind: 'Deployment', name: 'voting' }, meshed: true }),
  toPod({ namespace: 'nodevoto', name: 'vote-bot-1', owner: { kind: 'Deployment', name: 'vote-bot' } }),
];

let server: MetricsApiServer;
let addr: string;

before(async () => {
  const api = new MetricsApi({
    prometheus: {
      query: async (q: string): Promise<Sample[]> => parseResult('vector', ANSWERS.find(([shape]) => shape.test(q))?.[1] ?? []),
    },
    inventory: { pods: () => PODS, servicePods: () => undefined },
    clusterDomain: 'cluster.local',
    platformKind: 'memory',
    version: 'test',
    checkContext: (client) => ({ client }) as unknown as CheckContext,
    categories: [
      {
        name: 'fathom-prometheus',
        checks: [
          { description: 'Prometheus is running', hint: "'fathom up' starts it", run: async () => 'cannot reach Prometheus at http://127.0.0.1:9: ECONNREFUSED' },
          { description: 'versions match', hint: 'upgrade', warning: true, run: async () => 'proxy is dev' },
        ],
      },
    ],
  });
  server = await MetricsApiServer.listen({ host: '127.0.0.1', port: 0 }, api);
  addr = `127.0.0.1:${server.port}`;
});
after(() => server.close());

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out = memoryIO('', { env });
  const code = await runCli(argv, out.io);
  return { code, stdout: out.stdout(), stderr: out.stderr() };
}

test('stat deploy: aligned columns in Linkerd\'s formats, `-` for a deployment without traffic', async () => {
  const { code, stdout, stderr } = await cli(['stat', 'deploy', '-n', 'nodevoto', '--api-addr', addr]);
  assert.equal(stderr, '');
  assert.equal(code, 0);
  assert.equal(
    stdout,
    [
      'NAME       MESHED   SUCCESS       RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN',
      'vote-bot      0/1         -         -             -             -             -          -',
      'voting        1/1    85.00%    1.0rps           1ms           5ms          10ms          1',
      'web           1/1    95.00%   20.0rps           3ms          10ms          20ms          3',
      '',
    ].join('\n'),
  );
});

test('stat -A puts NAMESPACE first; -o wide adds bytes per second; the address may come from FATHOM_API_ADDR', async () => {
  const { stdout } = await cli(['stat', 'deploy/web', '-A', '-o', 'wide'], { FATHOM_API_ADDR: addr });
  assert.equal(
    stdout,
    [
      'NAMESPACE   NAME   MESHED   SUCCESS       RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN   READ_BYTES/SEC   WRITE_BYTES/SEC',
      'nodevoto    web       1/1    95.00%   20.0rps           3ms          10ms          20ms          3         500.0B/s         1000.0B/s',
      '',
    ].join('\n'),
  );
});

test('without --api-addr or FATHOM_API_ADDR, the port `fathom up` saved in the state directory is used', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-cli-stat-'));
  try {
    // Only the field the CLI reads of the local platform's saved configuration.
    writeFileSync(join(dir, 'local.json'), JSON.stringify({ apiPort: server.port }));
    const { code, stdout } = await cli(['stat', 'deploy/web', '-n', 'nodevoto', '--state-dir', dir]);
    assert.equal(code, 0);
    assert.match(stdout, /^web\s+1\/1\s+95\.00%/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stat -o json: one object per resource, null where there is no traffic', async () => {
  const { stdout } = await cli(['stat', 'deploy', 'vote-bot', '-n', 'nodevoto', '-o', 'json', '--api-addr', addr]);
  assert.deepEqual(JSON.parse(stdout), [
    {
      namespace: 'nodevoto', kind: 'deployment', name: 'vote-bot', meshed: 0, running: 1, success: null, rps: null,
      latency_ms_p50: null, latency_ms_p95: null, latency_ms_p99: null, tcp_open_connections: null,
    },
  ]);
});

test('routes: [DEFAULT] per authority (none here: the canned answers have no authority label)', async () => {
  const { code, stdout } = await cli(['routes', 'deploy/web', '-n', 'nodevoto', '--api-addr', addr]);
  assert.equal(code, 0);
  assert.match(stdout, /^ROUTE\s+AUTHORITY\s+SUCCESS\s+RPS\s+LATENCY_P50\s+LATENCY_P95\s+LATENCY_P99\n\[DEFAULT\]\s+/);
});

test('edges: √ for mutual TLS, the reason otherwise; wide adds both identities', async () => {
  const { stdout } = await cli(['edges', 'deploy', '-n', 'nodevoto', '-o', 'wide', '--api-addr', addr]);
  assert.equal(
    stdout,
    [
      `SRC        DST      SRC_NS     DST_NS     SECURED                             ${'CLIENT_ID'.padEnd(id('web').length)}   SERVER_ID`,
      `vote-bot   web      nodevoto   nodevoto   not_provided_by_service_discovery   ${'-'.padEnd(id('web').length)}   -`,
      `web        voting   nodevoto   nodevoto   √                                   ${id('web')}   ${id('voting')}`,
      '',
    ].join('\n'),
  );
});

test('check: × with the error and hint, ‼ for warnings, exit 1; -o json carries the same', async () => {
  const { code, stdout } = await cli(['check', '--api-addr', addr]);
  assert.equal(code, 1);
  assert.equal(
    stdout,
    [
      'fathom-prometheus',
      '-----------------',
      '× Prometheus is running',
      '    cannot reach Prometheus at http://127.0.0.1:9: ECONNREFUSED',
      "    hint: 'fathom up' starts it",
      '‼ versions match',
      '    proxy is dev',
      '    hint: upgrade',
      '',
      'Status check results are ×',
      '',
    ].join('\n'),
  );
  const json = await cli(['check', '-o', 'json', '--api-addr', addr]);
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { success: boolean }).success, false);
});

test('without a control plane: one line and exit 1 for stat; a failed first check for check', async () => {
  const closed = `127.0.0.1:${await freePort()}`;
  const statOut = await cli(['stat', 'deploy', '--api-addr', closed]);
  assert.equal(statOut.code, 1);
  assert.equal(statOut.stdout, '');
  assert.equal(
    statOut.stderr,
    `fathom stat: the control plane is not running: nothing answers at ${closed} (start it with 'fathom up', or give its address with --api-addr or FATHOM_API_ADDR)\n`,
  );
  const checkOut = await cli(['check', '--api-addr', closed]);
  assert.equal(checkOut.code, 1);
  assert.match(checkOut.stdout, /^fathom-control-plane\n-+\n× control plane API is reachable\n {4}the control plane is not running: .*\n {4}hint: start the control plane with 'fathom up'\n/);
});

test('bad command lines are usage errors (exit 2) before any call', async () => {
  const cases: [string[], RegExp][] = [
    [['stat', 'deployz'], /"deployz" is not a resource/],
    [['stat', 'deploy', '-t', '5s'], /--time-window: time window "5s" is too short: at least 15s/],
    [['stat', 'deploy', '--from', 'deploy/a', '--to', 'deploy/b'], /--from and --to cannot be used together/],
    [['stat', 'deploy', '-o', 'yaml'], /invalid output format "yaml"/],
    [['stat', 'deploy', '--api-addr', 'nowhere'], /--api-addr: "nowhere" is not a valid address/],
    [['routes', 'deploy'], /routes needs one resource by name/],
    [['edges', 'svc'], /edges are between deployments or pods/],
  ];
  for (const [argv, message] of cases) {
    const { code, stderr } = await cli(argv);
    assert.equal(code, 2, argv.join(' '));
    assert.match(stderr, message, argv.join(' '));
    assert.equal(stderr.split('\n').length, 2, 'one line');
  }
});
