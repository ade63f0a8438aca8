// bin/fathom-controller as a real process: it serves over TLS from a memory-state file, follows edits of
// that file, refuses bad flags with a message naming them, and exits cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { tcpAddressToString } from '../../src/api/net-addr.js';
import type { Update } from '../../src/api/gen/fathom/destination.js';
import type { MemoryState } from '../../src/platform/memory/state.js';
import { CONTROLLER_BIN, clientsFor, startControllerProcess, StreamReader } from '../helpers/controller.js';

function state(podIps: string[]): MemoryState {
  return {
    services: [{ namespace: 'demo', name: 'api', clusterIP: '198.19.0.20', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'api' } }],
    pods: podIps.map((ip, i) => ({ namespace: 'demo', name: `api-${i}`, ip, labels: { app: 'api' }, meshed: true, serviceAccount: 'api' })),
  };
}

test('fathom-controller serves from a state file, follows its edits and exits 0 on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-ctl-proc-'));
  const file = join(dir, 'state.json');
  writeFileSync(file, JSON.stringify(state(['198.18.0.21'])));
  const proc = await startControllerProcess(['--platform', 'memory', '--memory-state', file, '--log-level', 'debug'], join(dir, 'state'));
  const clients = clientsFor(proc.port, proc.anchorsPem, proc.identity);
  try {
    assert.equal(proc.identity, 'controller.fathom.serviceaccount.identity.fathom.cluster.local');
    const stream = new StreamReader<Update>(clients.destination.get({ scheme: '', path: 'api.demo.svc.cluster.local:80', contextToken: '' }));
    const first = await stream.next();
    assert.equal(first.update?.$case, 'add');
    if (first.update?.$case === 'add') assert.deepEqual(first.update.value.addrs.map((a) => tcpAddressToString(a.addr)), ['198.18.0.21:8080']);

    writeFileSync(file, JSON.stringify(state(['198.18.0.21', '198.18.0.22'])));
    const second = await stream.next();
    assert.equal(second.update?.$case, 'add');
    if (second.update?.$case === 'add') assert.deepEqual(second.update.value.addrs.map((a) => tcpAddressToString(a.addr)), ['198.18.0.22:8080']);

    // SIGTERM ends open streams cleanly (status OK) and the process exits 0.
    const ended = new Promise<void>((resolve) => stream.stream.on('status', (s: { code: number }) => s.code === status.OK && resolve()));
    assert.equal(await proc.stop(), 0, proc.logs());
    await ended;
    assert.match(proc.logs(), /shutting down signal=SIGTERM/);
  } finally {
    clients.close();
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fathom-controller refuses bad flags with exit code 2, naming the flag', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--issuance-lifetime', 'forever'], /--issuance-lifetime: "forever" is not a duration/],
    [['--trust-domain', 'Bad_Domain'], /--trust-domain: .*"Bad_Domain"/],
    [['--trust-anchor', '/tmp/x.pem'], /--trust-anchor, --issuer-cert and --issuer-key go together/],
    [['--addr', 'nowhere'], /--addr: "nowhere" is not a valid address/],
    [['--bogus'], /unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const run = spawnSync(process.execPath, [CONTROLLER_BIN, ...args], { encoding: 'utf8' });
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  const help = spawnSync(process.execPath, [CONTROLLER_BIN, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--issuance-lifetime <duration>/);
});

test('fathom-controller exits 1 with the reason when the platform is unknown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-ctl-proc-'));
  try {
    const run = spawnSync(process.execPath, [CONTROLLER_BIN, '--platform', 'mars', '--state-dir', dir], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /unknown platform "mars" \(known: memory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
