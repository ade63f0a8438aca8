// The local platform end to end, un-meshed: `fathom up`, a server Deployment (two replicas) and a
// client loop calling it by service name, `fathom get`, scaling, a crashed process restarting, hairpin
// traffic, hosts files updated in place, the fence, rollout restart, delete, and a `fathom down` that
// leaves the host as it found it. Needs root; one instance (tag fte201) for the whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { needsRoot } from '../helpers/netns.js';
import { FIXTURES, hostPicture, Instance, sh, stillRunning, waitFor, type HostPicture } from './local-helpers.js';

const NS = 'demo';
const manifest = readFileSync(join(FIXTURES, 'hello.yaml'), 'utf8');

describe('local platform', needsRoot, () => {
  const mesh = new Instance(201);
  let before_: HostPicture;

  before(async () => {
    before_ = await hostPicture(mesh.tag, mesh.stateDir);
    const out = await mesh.up();
    assert.match(out, /fathom is up/);
  });
  after(async () => {
    await mesh.down();
  });

  test('`up` is idempotent and `apply` creates the objects', async () => {
    assert.match(await mesh.up(), new RegExp(`controller   ${mesh.gateway.replace(/\./g, '\\.')}:8086`));
    const out = await mesh.mustFathom(['apply', '-f', join(FIXTURES, 'hello.yaml')]);
    assert.equal(out, 'namespace/demo created\nserviceaccount/hello created\ndeployment.apps/hello created\nservice/hello created\ndeployment.apps/client created\n');
    const again = await mesh.mustFathom(['apply', '-f', join(FIXTURES, 'hello.yaml')]);
    assert.match(again, /deployment\.apps\/hello unchanged/);
  });

  test('pods run and get ready; `get` shows them like kubectl', async () => {
    const servers = await mesh.readyPods(NS, 'hello', 2);
    await mesh.readyPods(NS, 'client', 1);
    for (const pod of servers) {
      assert.match(pod.metadata.name, /^hello-[b-z2-9]{10}-[b-z2-9]{5}$/);
      assert.ok(pod.status.podIP.startsWith(`198.18.${mesh.n}.`));
      assert.deepEqual(pod.status.containerStatuses.map((c) => [c.name, c.ready, c.restartCount]), [['server', true, 0]]);
    }
    const table = await mesh.mustFathom(['get', 'pods', '-n', NS]);
    assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\n/);
    assert.match(table, /hello-\S+\s+1\/1\s+Running\s+0\s+\d+s\s+198\.18\./);
    assert.match(await mesh.mustFathom(['get', 'deploy', '-n', NS]), /hello\s+2\/2\s+2\s+2\s+/);
    assert.match(await mesh.mustFathom(['get', 'svc', '-A']), new RegExp(`demo\\s+hello\\s+ClusterIP\\s+198\\.19\\.${mesh.n}\\.10\\s+<none>\\s+80/TCP`));
  });

  test('the client reaches the server by service name, un-meshed', async () => {
    const served = await waitFor('client requests answered by both replicas', async () => {
      const logs = await mesh.mustFathom(['logs', 'deploy/client', '-n', NS]);
      const names = new Set([...logs.matchAll(/^ok 200 (hello-\S+)$/gm)].map((m) => m[1]));
      return names.size === 2 ? names : undefined;
    });
    assert.equal(served.size, 2);
  });

  test('a pod reaches its own service (hairpin) and names resolve through its hosts file', async () => {
    const [pod] = await mesh.readyPods(NS, 'hello', 2);
    assert.equal((await mesh.exec(pod!.metadata.name, NS, ['hostname'])).stdout, `${pod!.metadata.name}\n`);
    const hosts = await mesh.exec(pod!.metadata.name, NS, ['cat', '/etc/hosts']);
    assert.match(hosts.stdout, new RegExp(`^198\\.19\\.${mesh.n}\\.10\\thello hello\\.demo hello\\.demo\\.svc hello\\.demo\\.svc\\.cluster\\.local$`, 'm'));
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const res = await mesh.exec(pod!.metadata.name, NS, ['curl', '-sS', '-m', '3', 'http://hello.demo.svc.cluster.local/']);
      assert.equal(res.code, 0, res.stderr);
      seen.add(res.stdout.trim());
    }
    assert.ok(seen.has(pod!.metadata.name), `the pod never reached itself through the service: ${[...seen].join(', ')}`);
  });

  test('a service created later resolves in running pods; without endpoints it refuses at once', async () => {
    const [client] = await mesh.readyPods(NS, 'client', 1);
    const svc = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: nothing\n  namespace: demo\nspec:\n  selector:\n    app: nobody\n  ports:\n    - port: 80\n';
    await mesh.mustFathom(['apply', '-f', '-'], { input: svc });
    const hosts = await waitFor('the new service in the hosts file', async () => {
      const res = await mesh.exec(client!.metadata.name, NS, ['cat', '/etc/hosts']);
      return /\tnothing nothing\.demo /.test(res.stdout) ? res.stdout : undefined;
    });
    assert.match(hosts, /198\.19\.\d+\.11\tnothing/);
    const started = Date.now();
    const res = await mesh.exec(client!.metadata.name, NS, ['curl', '-sS', '-m', '5', 'http://nothing/']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /Connection refused|Couldn't connect/);
    assert.ok(Date.now() - started < 3000, 'a cluster IP without endpoints should be refused, not time out');
    await mesh.mustFathom(['delete', 'svc', 'nothing', '-n', NS]);
  });

  test('the fence: nothing leaves for other addresses, and the host answers pods only on the controller port', async (t) => {
    const [client] = await mesh.readyPods(NS, 'client', 1);
    const name = client!.metadata.name;
    // Outside the pod and service ranges a pod has no route at all.
    const direct = await mesh.exec(name, NS, ['curl', '-sS', '-m', '2', 'http://203.0.113.7/']);
    assert.notEqual(direct.code, 0);
    // A pod that adds a route anyway is stopped by the host's FORWARD fence (TEST-NET-3, never routed).
    const dropCount = async () => {
      const out = (await sh('iptables', ['-v', '-x', '-n', '-L', `FATHOM-FWD-${mesh.tag}`])).stdout;
      return out.split('\n').filter((l) => /\sDROP\s/.test(l) && !/\s\*\s+fte/.test(l.split(/\s+/).slice(3, 7).join(' '))).reduce((n, l) => n + Number(l.trim().split(/\s+/)[0]), 0);
    };
    await mesh.exec(name, NS, ['ip', 'route', 'add', '203.0.113.0/24', 'via', mesh.gateway]);
    const droppedBefore = await dropCount();
    const routed = await mesh.exec(name, NS, ['curl', '-sS', '-m', '2', 'http://203.0.113.7/']);
    assert.notEqual(routed.code, 0);
    assert.ok((await dropCount()) > droppedBefore, 'the fence did not count the dropped packets');
    // A host service on all addresses is not reachable from pods, though the host reaches it.
    const server: Server = createServer((s) => s.end('host\n'));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    t.after(() => server.close());
    const port = (server.address() as { port: number }).port;
    const fromPod = await mesh.exec(name, NS, ['curl', '-sS', '-m', '2', `telnet://${mesh.gateway}:${port}`]);
    assert.notEqual(fromPod.code, 0);
    const fromHost = await sh('curl', ['-sS', '-m', '2', `telnet://${mesh.gateway}:${port}`], { timeoutMs: 5000 });
    assert.match(fromHost.stdout, /host/);
  });

  test('scaling to three replicas spreads traffic over three pods', async () => {
    await mesh.mustFathom(['apply', '-f', '-'], { input: manifest.replace('replicas: 2', 'replicas: 3'), cwd: FIXTURES });
    const pods = await mesh.readyPods(NS, 'hello', 3);
    const names = pods.map((p) => p.metadata.name);
    await waitFor('requests answered by all three replicas', async () => {
      const logs = await mesh.mustFathom(['logs', 'deploy/client', '-n', NS, '--tail', '60']);
      return names.every((n) => logs.includes(`ok 200 ${n}`));
    });
  });

  test('a killed container restarts and RESTARTS counts it', async () => {
    const [pod] = await mesh.readyPods(NS, 'hello', 3);
    const netns = `${mesh.tag}-${NS}.${pod!.metadata.name}`;
    const pids = (await sh('ip', ['netns', 'pids', netns])).stdout.split(/\s+/).filter(Boolean);
    const server = pids.find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('hello-server.mjs');
      } catch {
        return false;
      }
    });
    assert.ok(server, `no hello-server process in ${netns}`);
    process.kill(Number(server), 'SIGKILL');
    await waitFor('the container restarted and ready again', async () => {
      const p = (await mesh.pods(NS)).find((x) => x.metadata.name === pod!.metadata.name);
      const c = p?.status.containerStatuses[0];
      return c && c.restartCount === 1 && c.ready;
    }, 20_000);
    assert.match(await mesh.mustFathom(['get', 'pods', '-n', NS]), new RegExp(`${pod!.metadata.name}\\s+1/1\\s+Running\\s+1\\s`));
  });

  test('pods keep running when the controller and the agent stop; `up` brings them back', async () => {
    const names = (await mesh.pods(NS)).map((p) => p.metadata.name).sort();
    for (const daemon of ['controller', 'agent']) {
      const pid = Number(readFileSync(join(mesh.stateDir, 'run', `${daemon}.pid`), 'utf8'));
      process.kill(pid, 'SIGKILL');
    }
    const client = names.find((n) => n.startsWith('client-'))!;
    const logged = () => readFileSync(join(mesh.stateDir, 'podfs', `${NS}_${client}`, 'logs', 'client.log'), 'utf8');
    const before = logged().length;
    await waitFor('the client still being answered', async () => /^ok 200 hello-/m.test(logged().slice(before)));
    assert.match((await mesh.fathom(['get', 'pods', '-n', NS])).stderr, /is not running \(its agent is not\); run 'fathom up'/);
    await mesh.up();
    const after_ = (await mesh.readyPods(NS, 'hello', 3)).map((p) => p.metadata.name);
    assert.deepEqual((await mesh.pods(NS)).map((p) => p.metadata.name).sort(), names);
    assert.equal(after_.length, 3);
  });

  test('a pod whose supervisor dies is started again by the agent', async () => {
    const [pod] = await mesh.readyPods(NS, 'hello', 3);
    const status = JSON.parse(readFileSync(join(mesh.stateDir, 'status', `${NS}_${pod!.metadata.name}.json`), 'utf8')) as { supervisorPid: number };
    process.kill(status.supervisorPid, 'SIGKILL');
    await waitFor('the pod supervised again', async () => {
      const now = JSON.parse(readFileSync(join(mesh.stateDir, 'status', `${NS}_${pod!.metadata.name}.json`), 'utf8')) as { supervisorPid: number; ready: boolean };
      return now.supervisorPid !== status.supervisorPid && now.ready;
    }, 20_000);
    await mesh.readyPods(NS, 'hello', 3);
  });

  test('rollout restart replaces the pods', async () => {
    const old = (await mesh.readyPods(NS, 'hello', 3)).map((p) => p.metadata.name);
    assert.equal(await mesh.mustFathom(['rollout', 'restart', 'deploy/hello', '-n', NS]), 'deployment.apps/hello restarted\n');
    await mesh.mustFathom(['rollout', 'status', 'deploy/hello', '-n', NS, '--timeout', '60s'], { timeoutMs: 70_000 });
    const fresh = (await mesh.readyPods(NS, 'hello', 3)).map((p) => p.metadata.name);
    assert.equal(fresh.filter((n) => old.includes(n)).length, 0);
  });

  test('delete -f removes the objects and their pods', async () => {
    const out = await mesh.mustFathom(['delete', '-f', join(FIXTURES, 'hello.yaml')]);
    assert.match(out, /deployment\.apps "hello" deleted/);
    await waitFor('all pods gone', async () => (await mesh.pods(NS)).length === 0);
    assert.equal((await sh('iptables-save', ['-t', 'nat'])).stdout.includes(`-j DNAT`) && (await sh('iptables', ['-t', 'nat', '-S', `FATHOM-SVC-${mesh.tag}`])).stdout.includes('DNAT'), false);
  });

  test('`down` leaves nothing behind', async () => {
    await mesh.mustFathom(['apply', '-f', join(FIXTURES, 'hello.yaml')]);
    await mesh.readyPods(NS, 'hello', 2);
    const processes = await mesh.podProcesses();
    assert.ok(processes.length >= 6, `only ${processes.length} pod processes`);
    const res = await mesh.down();
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /fathom is down: 3 pods deleted/);
    const after_ = await hostPicture(mesh.tag, mesh.stateDir);
    assert.deepEqual(after_.own, before_.own);
    // Tables and /etc/netns are shared with parallel instances: they must be gone only when none runs.
    if (!before_.othersPresent && !after_.othersPresent) assert.deepEqual(after_.shared, before_.shared);
    assert.doesNotMatch((await sh('iptables-save', [])).stdout, new RegExp(mesh.tag));
    assert.deepEqual(stillRunning(processes), []);
  });
});
