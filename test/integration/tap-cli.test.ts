// `fathom tap` and `fathom top` against the controller's tap API fed by a fake tap source: Linkerd's line
// formats exactly, -o wide and json, top's table, the rate split the proxies are asked for, failures as
// one line, and the real `fathom` process exiting 0 on SIGINT and quietly when its output is closed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TapEvent_ProxyDirection, type ObserveRequest, type TapEvent, type TapEvent_Http } from '../../src/api/gen/fathom/tap.js';
import { tcpAddressToProto } from '../../src/api/net-addr.js';
import { run as tapRun, type TapArgs } from '../../src/cli/commands/tap.js';
import { run as topRun } from '../../src/cli/commands/top.js';
import { memoryIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/main.js';
import { Controller } from '../../src/controller/controller.js';
import { TapApi } from '../../src/controller/tap/api.js';
import type { PodTap, TapSource } from '../../src/controller/tap/source.js';
import type { TapTarget } from '../../src/controller/tap/targets.js';
import { MemoryPlatform } from '../../src/platform/memory/memory-platform.js';
import { toPod, type PodInput } from '../../src/platform/memory/state.js';
import { freePort, ROOT, waitFor } from '../helpers/proxy.js';

const pod = (name: string, ip: string, deployment: string, meshed = true): PodInput => ({ namespace: 'nodevoto', name, ip, owner: { kind: 'Deployment', name: deployment }, serviceAccount: deployment, meshed });
const PODS = [pod('web-1', '198.18.0.5', 'web'), pod('web-2', '198.18.0.6', 'web'), pod('voting-1', '198.18.0.7', 'voting'), pod('vote-bot-1', '198.18.0.9', 'vote-bot', false)];

type Http = TapEvent_Http['event'];
const us = (micros: number) => ({ seconds: BigInt(Math.floor(micros / 1e6)), nanos: (micros % 1e6) * 1000 });

/** A request's three events as web-1's proxy would send them. */
function exchange(stream: number, out: boolean, method: number, path: string, status: number, latencyUs: number, eos?: { grpc?: number; reset?: number }): TapEvent[] {
  const id = { base: 7, stream: BigInt(stream) };
  const base: Omit<TapEvent, 'event'> = {
    source: out ? tcpAddressToProto('198.18.0.5', 41000) : tcpAddressToProto('198.18.0.9', 5000),
    sourceMeta: { labels: out ? {} : { tls: 'not_provided_by_remote' } },
    routeMeta: undefined,
    destination: out ? tcpAddressToProto('198.18.0.7', 8080) : tcpAddressToProto('198.18.0.5', 8080),
    destinationMeta: { labels: out ? { tls: 'true', namespace: 'nodevoto', deployment: 'voting', server_id: 'voting.nodevoto.serviceaccount.identity.fathom.cluster.local' } : {} },
    proxyDirection: out ? TapEvent_ProxyDirection.OUTBOUND : TapEvent_ProxyDirection.INBOUND,
  };
  const ev = (event: Http): TapEvent => ({ ...base, event: { $case: 'http', value: { event } } });
  const authority = out ? 'voting-svc.nodevoto:8080' : 'web-svc.nodevoto:8080';
  const events = [ev({ $case: 'requestInit', value: { id, method: { type: { $case: 'registered', value: method } }, scheme: { type: { $case: 'registered', value: 0 } }, authority, path, headers: undefined } })];
  if (!eos?.reset) events.push(ev({ $case: 'responseInit', value: { id, sinceRequestInit: us(latencyUs), httpStatus: status, headers: undefined } }));
  const end = eos?.grpc !== undefined ? { end: { $case: 'grpcStatusCode' as const, value: eos.grpc } } : eos?.reset !== undefined ? { end: { $case: 'resetErrorCode' as const, value: eos.reset } } : undefined;
  events.push(ev({ $case: 'responseEnd', value: { id, sinceRequestInit: us(latencyUs + 250), sinceResponseInit: us(eos?.reset ? 0 : 250), responseBytes: eos?.reset ? 0n : 5n, eos: end, trailers: undefined } }));
  return events;
}

/**
 * web-1's proxy sends `script` on its first call (again every `repeatMs` if given) and stays open; web-2's
 * proxy cannot be reached.
 */
class FakeSource implements TapSource {
  readonly calls: Array<{ pod: string; request: ObserveRequest }> = [];
  constructor(
    private readonly script: TapEvent[],
    private readonly repeatMs?: number,
  ) {}
  connect(target: TapTarget): PodTap {
    let first = true;
    return {
      observe: async (request, onEvent, signal) => {
        this.calls.push({ pod: target.key, request });
        if (target.pod.name === 'web-2') throw new Error(`cannot tap ${target.key}'s proxy at ${target.host}:${target.port}: UNAVAILABLE: connect ECONNREFUSED`);
        if (first) for (const e of this.script) onEvent(e);
        first = false;
        const timer = this.repeatMs ? setInterval(() => this.script.forEach(onEvent), this.repeatMs) : undefined;
        if (!signal.aborted) await once(signal, 'abort');
        clearInterval(timer);
      },
      close: () => {},
    };
  }
}

const TAP_SCRIPT = [
  ...exchange(1, true, 1, '/fathom.Voting/VoteDoughnut', 200, 1500, { grpc: 2 }),
  ...exchange(2, false, 0, '/api/list', 200, 900),
  ...exchange(3, false, 0, '/api/vote', 0, 700, { reset: 8 }),
];

let source: FakeSource;
let http: Server;
let apiAddr: string;

async function serve(script: TapEvent[], repeatMs?: number): Promise<void> {
  source = new FakeSource(script, repeatMs);
  const platform = Object.assign(new MemoryPlatform({ pods: PODS }), { listPods: () => PODS.map(toPod) });
  const api = new TapApi({ platform, source, trustDomain: 'cluster.local', controlNamespace: 'fathom', tapPort: 4190 });
  http = createServer((req, res) => void (api.handle(req, res) || res.writeHead(404).end()));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  apiAddr = `127.0.0.1:${(http.address() as { port: number }).port}`;
}

before(() => serve(TAP_SCRIPT));
after(() => http.close());

const ARGS = { namespace: 'nodevoto', to: undefined, toNamespace: undefined, method: undefined, path: undefined, authority: undefined, scheme: undefined, maxRps: 100, stateDir: undefined };

/** Runs `fathom tap` until `lines` lines are out, then stops it as Ctrl-C would. */
async function tap(extra: Partial<TapArgs>, lines: number) {
  const abort = new AbortController();
  const out = memoryIO();
  const code = tapRun({ resource: 'deploy/web', output: 'table', ...ARGS, apiAddr, ...extra, signal: abort.signal }, out.io);
  await waitFor(() => out.stdout().split('\n').length > lines, 5_000, () => `${lines} lines: ${out.stdout()}${out.stderr()}`);
  abort.abort();
  return { code: await code, stdout: out.stdout(), stderr: out.stderr() };
}

test("tap prints Linkerd's req/rsp/end lines, gRPC status names and resets; an unreachable pod is one line on stderr", async () => {
  const r = await tap({}, 8);
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    [
      'req id=7:1 proxy=out src=198.18.0.5:41000 dst=198.18.0.7:8080 tls=true :method=POST :authority=voting-svc.nodevoto:8080 :path=/fathom.Voting/VoteDoughnut',
      'rsp id=7:1 proxy=out src=198.18.0.5:41000 dst=198.18.0.7:8080 tls=true :status=200 latency=1500µs',
      'end id=7:1 proxy=out src=198.18.0.5:41000 dst=198.18.0.7:8080 tls=true grpc-status=Unknown duration=250µs response-length=5B',
      'req id=7:2 proxy=in  src=198.18.0.9:5000 dst=198.18.0.5:8080 tls=not_provided_by_remote :method=GET :authority=web-svc.nodevoto:8080 :path=/api/list',
      'rsp id=7:2 proxy=in  src=198.18.0.9:5000 dst=198.18.0.5:8080 tls=not_provided_by_remote :status=200 latency=900µs',
      'end id=7:2 proxy=in  src=198.18.0.9:5000 dst=198.18.0.5:8080 tls=not_provided_by_remote duration=250µs response-length=5B',
      'req id=7:3 proxy=in  src=198.18.0.9:5000 dst=198.18.0.5:8080 tls=not_provided_by_remote :method=GET :authority=web-svc.nodevoto:8080 :path=/api/vote',
      'end id=7:3 proxy=in  src=198.18.0.9:5000 dst=198.18.0.5:8080 tls=not_provided_by_remote reset-error=8 duration=0µs response-length=0B',
      '',
    ].join('\n'),
  );
  assert.equal(r.stderr, "fathom tap: cannot tap nodevoto/web-2's proxy at 198.18.0.6:4190: UNAVAILABLE: connect ECONNREFUSED\n");
  // 100 rps over the two web pods: each proxy is asked for 50 requests per call.
  assert.deepEqual(new Set(source.calls.map((c) => `${c.pod} ${c.request.limit}`)), new Set(['nodevoto/web-1 50', 'nodevoto/web-2 50']));
});

test('-o wide names both sides; -o json is one API object per line; filters reach the proxies as a Match', async () => {
  const wide = await tap({ output: 'wide' }, 8);
  const lines = wide.stdout.split('\n');
  assert.match(lines[0]!, / :path=\/fathom\.Voting\/VoteDoughnut src_res=deploy\/web src_ns=nodevoto dst_res=deploy\/voting dst_ns=nodevoto$/);
  assert.match(lines[3]!, / :path=\/api\/list src_res=deploy\/vote-bot src_ns=nodevoto dst_res=deploy\/web dst_ns=nodevoto$/);

  const json = await tap({ output: 'json', to: 'deploy/voting', path: '/fathom.Voting/', maxRps: 10 }, 8);
  const first = JSON.parse(json.stdout.split('\n')[0]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(first), ['type', 'id', 'direction', 'source', 'destination', 'tls', 'source_labels', 'destination_labels', 'route_labels', 'proxy_pod', 'method', 'scheme', 'authority', 'path']);
  assert.equal(first.type, 'req');
  assert.equal(first.proxy_pod, 'nodevoto/web-1');
  assert.deepEqual(first.destination_labels, { namespace: 'nodevoto', pod: 'voting-1', serviceaccount: 'voting', deployment: 'voting', tls: 'true', server_id: 'voting.nodevoto.serviceaccount.identity.fathom.cluster.local' });
  const last = source.calls.at(-1)!.request;
  assert.equal(last.limit, 5, '10 rps over 2 pods');
  assert.deepEqual(last.match?.match?.$case === 'all' ? last.match.match.value.matches.map((m) => m.match?.$case) : undefined, ['destinationLabel', 'destinationLabel', 'http']);
});

test('bad requests and a stopped control plane are one line and exit 1', async () => {
  const io = memoryIO();
  assert.equal(await runCli(['tap', 'deploy/nope', '-n', 'nodevoto', '--api-addr', apiAddr], io.io), 1);
  assert.equal(io.stderr(), 'fathom tap: no pods found for deployment/nope in namespace nodevoto\n');
  const down = `127.0.0.1:${await freePort()}`;
  const io2 = memoryIO();
  assert.equal(await runCli(['top', 'deploy/web', '--api-addr', down], io2.io), 1);
  assert.equal(io2.stderr(), `fathom top: the control plane is not running: nothing answers at ${down} (start it with 'fathom up', or give its address with --api-addr or FATHOM_API_ADDR)\n`);
  const io3 = memoryIO();
  assert.equal(await runCli(['tap', 'deploy/web', '--max-rps', '0'], io3.io), 2);
  assert.match(io3.stderr(), /^fathom tap: --max-rps: expected a positive number/);
});

test('top: without a terminal, a snapshot every interval, sorted by count; the last one when stopped', async () => {
  http.close();
  await serve([
    ...exchange(1, false, 0, '/api/list', 200, 750),
    ...exchange(2, true, 1, '/fathom.Voting/VoteDoughnut', 200, 2000, { grpc: 2 }),
    ...exchange(3, false, 0, '/api/list', 200, 1750),
    ...exchange(4, true, 1, '/fathom.Voting/VoteDoughnut', 200, 1_499_750, { grpc: 0 }),
    ...exchange(5, false, 0, '/api/list', 200, 2750),
    ...exchange(6, false, 0, '/api/vote', 500, 250),
  ]);
  const abort = new AbortController();
  const out = memoryIO();
  const code = topRun({ resource: 'deploy/web', ...ARGS, apiAddr, intervalMs: 100, signal: abort.signal }, out.io);
  await waitFor(() => out.stdout().includes('/api/vote'), 5_000, () => `a full snapshot: ${out.stdout()}`);
  abort.abort();
  assert.equal(await code, 0);
  const snapshots = out.stdout().split('\n\n').filter((s) => s !== '');
  assert.ok(snapshots.length >= 2);
  assert.equal(
    snapshots.at(-1)! + '\n',
    [
      'SOURCE       DESTINATION   METHOD   PATH                          COUNT    BEST   WORST    LAST   SUCCESS RATE',
      'vote-bot-1   web-1         GET      /api/list                         3     1ms     3ms     3ms        100.00%',
      'web-1        voting-1      POST     /fathom.Voting/VoteDoughnut       2     2ms    1.5s    1.5s         50.00%',
      'vote-bot-1   web-1         GET      /api/vote                         1   500µs   500µs   500µs          0.00%',
      '',
    ].join('\n'),
  );
  assert.equal(out.stderr(), "fathom top: cannot tap nodevoto/web-2's proxy at 198.18.0.6:4190: UNAVAILABLE: connect ECONNREFUSED\n");
});

test('top on a terminal: redraws on the alternate screen, q quits and restores the terminal', async () => {
  const out = memoryIO('', { isTTY: true });
  const modes: boolean[] = [];
  const keys = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (raw: boolean) => modes.push(raw) });
  const code = topRun({ resource: 'deploy/web', ...ARGS, apiAddr, intervalMs: 5_000 }, { ...out.io, stdin: keys });
  await waitFor(() => out.stdout().includes('/api/vote'), 5_000, () => `a redraw with traffic: ${out.stdout()}`);
  keys.write('q');
  assert.equal(await code, 0);
  assert.deepEqual(modes, [true, false], 'raw mode on for keys, then off again');
  const screen = out.stdout();
  assert.ok(screen.startsWith('\x1b[?1049h\x1b[?25l'), 'enters the alternate screen, hides the cursor');
  assert.ok(screen.endsWith('\x1b[?25h\x1b[?1049l'), 'shows the cursor and leaves the alternate screen');
  const error = "cannot tap nodevoto/web-2's proxy at 198.18.0.6:4190: UNAVAILABLE: connect ECONNREFUSED";
  assert.ok(screen.includes(`\x1b[H\x1b[2J(press q to quit)\n${error}\n\nSOURCE       DESTINATION`), 'each redraw clears the screen, shows a pod failure');
  assert.equal(out.stderr(), '', 'stderr would scroll the screen away');
});

test('the fathom process exits 0 on SIGINT, and quietly when its output pipe closes', async () => {
  // Events keep coming, as on a busy mesh: a closed pipe is noticed at the next write.
  http.close();
  await serve(TAP_SCRIPT, 50);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', FATHOM_STATE_DIR: mkdtempSync(join(tmpdir(), 'fathom-tap-cli-')) };
  try {
    for (const how of ['SIGINT', 'pipe'] as const) {
      const child = spawn(process.execPath, [`${ROOT}bin/fathom`, 'tap', 'deploy/web', '-n', 'nodevoto', '--api-addr', apiAddr], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      await once(child.stdout!, 'data');
      const exited = once(child, 'exit');
      if (how === 'SIGINT') child.kill('SIGINT');
      else child.stdout!.destroy();
      const [code, signal] = (await exited) as [number | null, string | null];
      assert.deepEqual([code, signal], [0, null], `${how}: ${stderr}`);
      assert.doesNotMatch(stderr, /Error|EPIPE/, how);
    }
  } finally {
    rmSync(env.FATHOM_STATE_DIR, { recursive: true, force: true });
  }
});

test("the controller serves the tap API on its API server, next to the metrics API", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'fathom-tap-controller-'));
  const platform = Object.assign(new MemoryPlatform({ pods: PODS }), { listPods: () => PODS.map(toPod) });
  const controller = await Controller.start(
    { addr: { host: '127.0.0.1', port: 0 }, stateDir, trustDomain: 'cluster.local', controlNamespace: 'fathom', clusterDomain: 'cluster.local', issuanceLifetimeMs: 86_400_000, clockSkewMs: 20_000, caFiles: undefined, defaultOpaquePorts: new Set(), apiAddr: { host: '127.0.0.1', port: 0 }, prometheusUrl: undefined },
    platform,
  );
  try {
    const base = `http://127.0.0.1:${controller.apiPort}`;
    const missing = await fetch(`${base}/api/v1/tap?resource=deploy/vote-bot&namespace=nodevoto`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: { code: 'ENOPODS', message: "no meshed pod with an IP for deployment/vote-bot in namespace nodevoto: 1 pod(s), none with a proxy to tap (add them to the mesh with 'fathom inject')" } });
    assert.equal((await fetch(`${base}/api/v1/version`)).status, 200, 'the metrics API still answers');
    const streaming = await fetch(`${base}/api/v1/tap?resource=deploy/web&namespace=nodevoto`);
    assert.equal(streaming.status, 200);
    assert.equal(streaming.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    await streaming.body?.cancel();
  } finally {
    await controller.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
