// Meshing on the local platform with no change to the apps: unmodified Debian servers (Python's
// http.server, redis-server) and a toolbox pod, applied plain, then re-applied through
// `fathom inject | fathom apply -f -`. The pods roll with an init step and a fathom-proxy sidecar,
// traffic flows through the proxies by service name, the servers' proxies count it, and Prometheus has
// the series. Everything runs twice: with standalone proxies (FATHOM_LOCAL_PROXY_STANDALONE=1, instance
// fte202) and with proxies in controller mode, which certify their identity first (instance fte204).
// Needs root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { needsRoot } from '../helpers/netns.js';
import { parseExposition } from '../../src/lib/prom-text.js';
import { FIXTURES, Instance, sh, stillRunning, waitFor } from './local-helpers.js';

const NS = 'mesh';

for (const mode of ['standalone', 'controller'] as const) describe(`local platform: meshing unmodified servers (${mode} proxies)`, needsRoot, () => {
  const mesh = new Instance(mode === 'standalone' ? 202 : 204, mode === 'standalone' ? { FATHOM_LOCAL_PROXY_STANDALONE: '1' } : {});
  let toolbox = '';

  const metricSum = async (pod: string, name: string, labels: Record<string, string>) => {
    const res = await mesh.exec(pod, NS, ['curl', '-sf', 'http://127.0.0.1:4191/metrics']);
    assert.equal(res.code, 0, res.stderr);
    return parseExposition(res.stdout)
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((n, s) => n + s.value, 0);
  };

  before(async () => {
    const up = await mesh.up();
    if (mode === 'standalone') assert.match(up, /proxies\s+standalone/);
    else assert.doesNotMatch(up, /standalone/);
  });
  after(async () => {
    await mesh.down();
  });

  test('plain apply: the servers run as their users start them and answer by name', async () => {
    await mesh.mustFathom(['apply', '-f', join(FIXTURES, 'mesh.yaml')]);
    await mesh.readyPods(NS, 'web', 2);
    await mesh.readyPods(NS, 'redis', 1);
    toolbox = (await mesh.readyPods(NS, 'toolbox', 1))[0]!.metadata.name;
    const res = await mesh.exec(toolbox, NS, ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', 'http://web/']);
    assert.equal(res.stdout, '200', res.stderr);
  });

  test('`fathom inject | fathom apply -f -` rolls every pod with a proxy', async () => {
    const before_ = (await mesh.pods(NS)).map((p) => p.metadata.name);
    const piped = await sh('bash', ['-c', `set -o pipefail; node ../../../bin/fathom inject mesh.yaml | node ../../../bin/fathom apply --state-dir ${mesh.stateDir} -f -`], {
      cwd: FIXTURES,
      env: { ...process.env, ...mesh.env },
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /deployment\.apps\/web configured/);
    assert.match(piped.stderr, /deployment "redis" injected/);
    for (const [app, n] of [['web', 2], ['redis', 1], ['toolbox', 1]] as const) {
      const pods = await mesh.readyPods(NS, app, n);
      for (const pod of pods) {
        assert.ok(!before_.includes(pod.metadata.name), `${pod.metadata.name} was not replaced`);
        assert.deepEqual(pod.status.containerStatuses.map((c) => [c.name, c.ready]), [['fathom-proxy', true], [app, true]]);
      }
    }
    assert.match(await mesh.mustFathom(['get', 'pods', '-n', NS]), /web-\S+\s+2\/2\s+Running/);
    toolbox = (await mesh.readyPods(NS, 'toolbox', 1))[0]!.metadata.name;
  });

  test('http.server answers through the proxies, which count the requests', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await mesh.exec(toolbox, NS, ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', 'http://web.mesh.svc.cluster.local/']);
      assert.equal(res.stdout, '200', res.stderr);
    }
    assert.ok((await metricSum(toolbox, 'request_total', { direction: 'outbound' })) >= 10);
    const webs = await mesh.readyPods(NS, 'web', 2);
    let inbound = 0;
    for (const pod of webs) inbound += await metricSum(pod.metadata.name, 'request_total', { direction: 'inbound' });
    assert.ok(inbound >= 10, `the web proxies counted ${inbound} inbound requests`);
  });

  test('redis-server answers redis-cli through the proxies (opaque TCP)', async () => {
    const set = await mesh.exec(toolbox, NS, ['redis-cli', '-h', 'redis', 'SET', 'greeting', 'hello']);
    assert.equal(set.stdout.trim(), 'OK', set.stderr);
    const get = await mesh.exec(toolbox, NS, ['redis-cli', '-h', 'redis.mesh', 'GET', 'greeting']);
    assert.equal(get.stdout.trim(), 'hello', get.stderr);
    const [redis] = await mesh.readyPods(NS, 'redis', 1);
    assert.ok((await metricSum(redis!.metadata.name, 'tcp_open_total', { direction: 'inbound' })) >= 2);
  });

  test('Prometheus scrapes the proxies with namespace, pod, deployment and pod labels', async () => {
    const series = await waitFor('inbound request_total of deployment web in Prometheus', async () => {
      const result = await mesh.prometheusQuery('request_total{namespace="mesh",deployment="web",direction="inbound"}');
      return result.length > 0 ? result : undefined;
    }, 20_000, 500);
    const labels = series[0]!.metric;
    assert.equal(labels['job'], 'fathom-proxy');
    assert.equal(labels['app'], 'web');
    assert.match(labels['pod'] ?? '', /^web-/);
    assert.ok(labels['pod_template_hash']);
  });

  test('`fathom uninject | fathom apply -f -` takes the proxies out again', async () => {
    const piped = await sh('bash', ['-c', `set -o pipefail; node ../../../bin/fathom inject mesh.yaml | node ../../../bin/fathom uninject - | node ../../../bin/fathom apply --state-dir ${mesh.stateDir} -f -`], { cwd: FIXTURES });
    assert.equal(piped.code, 0, piped.stderr);
    const [web] = await mesh.readyPods(NS, 'web', 2);
    assert.deepEqual(web!.status.containerStatuses.map((c) => c.name), ['web']);
  });

  test('`down` stops every process of the pods', async () => {
    await sh('bash', ['-c', `node ../../../bin/fathom inject mesh.yaml | node ../../../bin/fathom apply --state-dir ${mesh.stateDir} -f -`], { cwd: FIXTURES });
    await mesh.readyPods(NS, 'redis', 1);
    await mesh.readyPods(NS, 'web', 2);
    const processes = await mesh.podProcesses();
    const res = await mesh.down();
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(stillRunning(processes), []);
  });
});
