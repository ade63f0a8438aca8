// `fathom demo`: the talk's story, end to end, on the local platform. It starts the mesh, runs the
// nodevoto app un-meshed (something fails, and nothing says where), meshes it with `inject | apply` and
// no change to the app, waits for the proxies' metrics, and shows `stat`: the culprit stands out. Each
// step prints the command a user would type and that command's own output, so the transcript teaches
// the commands. It then keeps running until Ctrl-C, and removes what it started; with --detach it
// returns and leaves everything running.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StatResponse } from '../../controller/metrics-api/types.js';
import { FathomError } from '../../lib/errors.js';
import { DEFAULT_DASHBOARD_PORT, INSTALL_DIR, loadConfig, stateDirFrom } from '../../platform/local/config.js';
import { isMeshed } from '../../platform/local/mesh.js';
import { assertRequirements } from '../../platform/local/requirements.js';
import { loadSnapshot } from '../../platform/local/snapshot.js';
import { deploymentCounts, podStatusText } from '../../platform/local/views.js';
import { ApiClient } from '../api-client.js';
import { defineCommand, EXIT_OK, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';
import { run as applyRun } from './apply.js';
import { run as deleteRun } from './delete.js';
import { run as downRun } from './down.js';
import { run as getRun } from './get.js';
import { commands } from './index.js';
import { run as injectRun } from './inject.js';
import { run as logsRun } from './logs.js';
import { run as statRun } from './stat.js';
import { bindUpFlags, command as upCommand, run as upRun, type UpArgs } from './up.js';

const NAMESPACE = 'nodevoto';
const APP_DIR = join(INSTALL_DIR, 'examples', NAMESPACE);
const MANIFEST = join(APP_DIR, 'nodevoto.yaml');
/** The interpreter nodevoto.yaml's containers name (an image built from deploy/Dockerfile has it too). */
const NODE = '/usr/bin/node';
/** The deployments whose inbound traffic `stat` must show before the demo prints it (vote-bot only sends). */
const SERVED = ['web', 'emoji', 'voting'] as const;
/** Four small Node processes (and their proxies) start within seconds; this much means something is wrong. */
const PODS_TIMEOUT_MS = 120_000;
/** Proxies are scraped every 5 s, and `increase()` needs two samples: data appears within ~15 s of meshing. */
const TRAFFIC_TIMEOUT_MS = 120_000;
const POLL_MS = 1000;
/** Two more scrapes after the first figures. */
const SETTLE_MS = 10_000;

export interface DemoArgs {
  /** Return once `stat` has data, leaving the mesh and nodevoto running. */
  readonly detach: boolean;
  /** Where and how to run the local platform: the flags of `fathom up`. */
  readonly up: UpArgs;
}

/** Resolves when the user asks the demo to stop; `dispose` removes whatever it listens with. */
export interface Interrupt {
  readonly requested: Promise<void>;
  dispose(): void;
}

/**
 * Ctrl-C (SIGINT), SIGTERM or a closed terminal (SIGHUP), once: a second Ctrl-C ends the process at once.
 * Signal listeners do not keep Node running, so a timer does until then.
 */
export function processInterrupt(): Interrupt {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  let onSignal: () => void = () => {};
  const requested = new Promise<void>((resolve) => (onSignal = resolve));
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const dispose = () => {
    clearInterval(keepAlive);
    for (const s of signals) process.removeListener(s, handler);
  };
  const handler = () => {
    dispose();
    onSignal();
  };
  for (const s of signals) process.once(s, handler);
  return { requested, dispose };
}

class Interrupted extends Error {}

export async function run(args: DemoArgs, io: CommandIO, interrupt: () => Interrupt = processInterrupt): Promise<number> {
  // Refused in one line before any step is printed, as every platform command is.
  assertRequirements();
  const stateDir = stateDirFrom(args.up.stateDir, io.env, io.cwd);
  const demo = new Demo(args, io, stateDir);
  // Attached, Ctrl-C at any point stops the demo and removes what it started; detached, it just ends the
  // process (every step can be run again).
  const stop = args.detach ? undefined : interrupt();
  const aborted = new AbortController();
  void stop?.requested.then(() => aborted.abort());
  try {
    await demo.tellTheStory(aborted.signal);
    if (args.detach) {
      demo.say(`\nThe mesh and nodevoto keep running in the background. '${demo.cmd('fathom down')}' stops everything.`);
      return EXIT_OK;
    }
    demo.say(`\nThe mesh keeps running. Press Ctrl-C to stop the demo: it deletes nodevoto and runs 'fathom down'.`);
    await stop!.requested;
  } catch (err) {
    if (!(err instanceof Interrupted)) {
      demo.hintAfterFailure();
      throw err;
    }
  } finally {
    stop?.dispose();
  }
  demo.progress('');
  demo.say('\nStopping the demo.');
  return demo.tearDown();
}

/** The steps, with what they share: where the platform is, how to print, how to wait. */
class Demo {
  private shownProgress = '';
  /** Once `up` has begun, a failure leaves something running that the user should know about. */
  private upStarted = false;
  /** Flags that every printed command needs to reach this instance (none for the default one). */
  private readonly instanceFlags: string;

  constructor(
    private readonly args: DemoArgs,
    private readonly io: CommandIO,
    private readonly stateDir: string,
  ) {
    // With FATHOM_STATE_DIR set, the user's own commands find the instance as the demo did.
    this.instanceFlags = args.up.stateDir !== undefined ? ` --state-dir ${stateDir}` : '';
  }

  async tellTheStory(signal: AbortSignal): Promise<void> {
    const manifest = this.shownPath(MANIFEST);
    if (!existsSync(NODE)) {
      throw new FathomError('EDEMO', `${manifest} runs its services with ${NODE}, which this host lacks; link it to Node.js 20 or later (ln -s "$(command -v node)" ${NODE})`);
    }
    this.step(1, 'Start the mesh: controller, Prometheus, and pods as network namespaces on this host');
    this.echo('fathom up');
    this.upStarted = true;
    await this.exitOk(upRun(this.args.up, this.io));
    this.check(signal);

    this.step(2, 'Deploy nodevoto, an app of four services, as it is: not meshed');
    if (this.meshedAlready()) {
      this.say('nodevoto is already meshed (an earlier demo left it running): on to the mesh step.');
    } else {
      this.echo(`fathom apply -f ${manifest}`);
      await this.exitOk(applyRun({ file: MANIFEST, namespace: 'default', stateDir: this.stateDir }, this.io));
      await this.waitForPods(false, signal);
      this.echo(`fathom get pods -n ${NAMESPACE}`);
      await this.exitOk(getRun({ resource: 'pods', name: undefined, namespace: NAMESPACE, allNamespaces: false, output: 'table', stateDir: this.stateDir }, this.io));
      this.say('\nvote-bot votes ten times a second, and some votes fail. Where? The apps log nothing about it:');
      this.echo(`fathom logs deploy/web -n ${NAMESPACE}`);
      await this.exitOk(logsRun({ target: 'deploy/web', namespace: NAMESPACE, container: undefined, follow: false, tail: undefined, stateDir: this.stateDir }, this.io));
    }
    this.check(signal);

    this.step(3, 'Add nodevoto to the mesh, with no change to its code or configuration');
    this.echo(`fathom inject ${manifest} | fathom apply -f -`);
    const injected = new Capture();
    await this.exitOk(injectRun({ file: MANIFEST, config: {} }, { ...this.io, stdout: injected, isTTY: false }));
    const stdin = Readable.from([Buffer.from(injected.text())]);
    await this.exitOk(applyRun({ file: '-', namespace: 'default', stateDir: this.stateDir }, { ...this.io, stdin, cwd: APP_DIR }));
    await this.waitForPods(true, signal);
    this.echo(`fathom get pods -n ${NAMESPACE}`);
    await this.exitOk(getRun({ resource: 'pods', name: undefined, namespace: NAMESPACE, allNamespaces: false, output: 'table', stateDir: this.stateDir }, this.io));
    this.say('Each pod now has two containers: the app, and the fathom-proxy beside it.');

    this.step(4, 'Find the culprit');
    const rows = await this.waitForTraffic(signal);
    this.echo(`fathom stat deploy -n ${NAMESPACE}`);
    await this.exitOk(statRun(this.statArgs(), this.io));
    this.say(this.verdict(rows));
    this.showNextSteps();
  }

  /** `fathom delete ns nodevoto` and `fathom down`: what the demo started, gone; the host as it was. */
  async tearDown(): Promise<number> {
    this.echo(`fathom delete ns ${NAMESPACE}`);
    try {
      await deleteRun({ file: undefined, type: 'ns', names: [NAMESPACE], namespace: 'default', ignoreNotFound: true, stateDir: this.stateDir }, this.io);
    } catch (err) {
      // Not up (an interrupted `up`), or already gone: `down` still cleans whatever is there.
      this.io.stderr.write(`fathom demo: ${(err as Error).message}\n`);
    }
    this.echo('fathom down');
    return downRun({ stateDir: this.stateDir, purge: false }, this.io);
  }

  hintAfterFailure(): void {
    this.progress('');
    if (!this.upStarted) return;
    this.io.stderr.write(
      `fathom demo: the demo stopped; whatever started is still running. Look with '${this.cmd(`fathom get pods -n ${NAMESPACE}`)}', ` +
        `'${this.cmd(`fathom logs deploy/web -n ${NAMESPACE} -c fathom-proxy`)}' and '${this.cmd('fathom check --proxy')}'; '${this.cmd('fathom down')}' stops it all.\n`,
    );
  }

  private meshedAlready(): boolean {
    const deployments = loadSnapshot(this.stateDir).deployments.filter((d) => d.metadata.namespace === NAMESPACE);
    return deployments.length > 0 && deployments.every((d) => isMeshed(d.spec.template.metadata.annotations));
  }

  /** Until every nodevoto deployment has rolled out (meshed or not, as asked) and no old pod remains. */
  private async waitForPods(meshed: boolean, signal: AbortSignal): Promise<void> {
    const what = meshed ? 'nodevoto to roll, a proxy in every pod' : "nodevoto's pods";
    await this.poll(PODS_TIMEOUT_MS, signal, () => {
      const snap = loadSnapshot(this.stateDir);
      const deployments = snap.deployments.filter((d) => d.metadata.namespace === NAMESPACE);
      const pods = snap.pods.filter((p) => p.record.namespace === NAMESPACE);
      const done = deployments.filter((d) => {
        const c = deploymentCounts(d, snap);
        const mine = pods.filter((p) => p.record.owner.uid === d.metadata.uid);
        const want = d.spec.replicas;
        return c.updated === want && c.ready === want && mine.length === want && mine.every((p) => p.record.meshed === meshed);
      });
      const ok = deployments.length > 0 && done.length === deployments.length;
      // A pod that cannot start says why (CrashLoopBackOff...): its logs are the place to look.
      const stuck = pods.map((p) => `${p.record.name} ${podStatusText(p)}`).filter((text) => !/ (Running|ContainerCreating|PodInitializing|Terminating|Init:\d+\/\d+)$/.test(text));
      return { done: ok, status: `waiting for ${what}: ${done.length}/${deployments.length} deployments ready${stuck.length > 0 ? ` (${stuck.join(', ')})` : ''}` };
    });
  }

  /**
   * Until `stat` has had figures for every deployment that serves requests for SETTLE_MS: the first
   * figures rest on two scrapes, and a couple more make them steadier. Returns the last rows.
   */
  private async waitForTraffic(signal: AbortSignal): Promise<StatResponse['rows']> {
    const api = ApiClient.for({ apiAddr: undefined, stateDir: this.stateDir }, this.io);
    let rows: StatResponse['rows'] = [];
    let firstSeen: number | undefined;
    await this.poll(TRAFFIC_TIMEOUT_MS, signal, async () => {
      let why = '';
      try {
        rows = (await api.get<StatResponse>('/api/v1/stat', { resource: 'deploy', namespace: NAMESPACE })).rows;
      } catch (err) {
        why = ` (${(err as Error).message})`;
      }
      const missing = SERVED.filter((name) => !rows.some((r) => r.name === name && r.success !== null));
      if (missing.length > 0) {
        firstSeen = undefined;
        return { done: false, status: `waiting for the proxies' metrics to reach Prometheus: no figures yet for ${and(missing)}${why}` };
      }
      firstSeen ??= Date.now();
      return { done: Date.now() - firstSeen >= SETTLE_MS, status: 'the first figures are in; collecting a few more seconds of traffic' };
    });
    return rows;
  }

  /** Calls `check` every second until it says done; a progress line shows its status meanwhile. */
  private async poll(timeoutMs: number, signal: AbortSignal, check: () => { done: boolean; status: string } | Promise<{ done: boolean; status: string }>): Promise<void> {
    const started = Date.now();
    for (;;) {
      this.check(signal);
      const { done, status } = await check();
      const seconds = Math.round((Date.now() - started) / 1000);
      if (done) return this.progress('');
      if (Date.now() - started > timeoutMs) {
        this.progress('');
        throw new FathomError('ETIMEOUT', `gave up after ${seconds}s ${status}`);
      }
      this.progress(this.io.isTTY ? `${status} (${seconds}s)` : status);
      await sleep(POLL_MS, undefined, { signal }).catch(() => this.check(signal));
    }
  }

  private check(signal: AbortSignal): void {
    if (signal.aborted) throw new Interrupted();
  }

  /** What `stat` says, in words: which deployments fail some requests (figures are in the table above). */
  private verdict(rows: StatResponse['rows']): string {
    const served = rows.filter((r) => r.success !== null);
    const failing = served.filter((r) => r.success! < 1).map((r) => r.name);
    const perfect = served.filter((r) => r.success === 1).map((r) => r.name);
    if (failing.length === 0) return '\nEvery request succeeded in this window: run stat again in a few seconds. Meanwhile, try:';
    const fine = perfect.length === 0 ? '' : `, while ${and(perfect)} ${perfect.length === 1 ? 'succeeds' : 'succeed'} every time`;
    return `\nSUCCESS is below 100% for ${and(failing)}${fine}. Which requests fail, and where? Ask the mesh:`;
  }

  private showNextSteps(): void {
    const registered = (name: string) => commands.some((c) => c.name === name);
    const next = [
      { command: 'top', line: `fathom top deploy/web -n ${NAMESPACE}`, what: "web's busiest paths, live, with their success" },
      { command: 'tap', line: `fathom tap deploy/web -n ${NAMESPACE} --to deploy/voting`, what: 'every request from web to voting as it happens, with its gRPC status' },
      { command: 'routes', line: `fathom routes deploy/voting -n ${NAMESPACE}`, what: "voting's success per route" },
      { command: 'edges', line: `fathom edges deploy -n ${NAMESPACE}`, what: 'who calls whom, and whether mutual TLS secures it' },
    ].filter((n) => registered(n.command));
    const width = Math.max(...next.map((n) => this.cmd(n.line).length));
    for (const n of next) this.say(`  ${this.cmd(n.line).padEnd(width)}   # ${n.what}`);
    const port = loadConfig(this.stateDir)?.dashboardPort ?? DEFAULT_DASHBOARD_PORT;
    this.say(`\nThe dashboard shows the same with charts over time: http://127.0.0.1:${port}/namespaces/${NAMESPACE} ('${this.cmd(`fathom dashboard ns/${NAMESPACE}`)}')`);
  }

  private statArgs() {
    return {
      resource: 'deploy', namespace: NAMESPACE, allNamespaces: false, from: undefined, fromNamespace: undefined, to: undefined,
      toNamespace: undefined, window: '1m', output: 'table' as const, apiAddr: undefined, stateDir: this.stateDir,
    };
  }

  /** A command as the user would type it for this instance: `--state-dir` on each fathom command that takes it. */
  cmd(line: string): string {
    if (this.instanceFlags === '') return line;
    return line
      .split(' | ')
      .map((part) => (/^fathom (inject|uninject) /.test(part) ? part : `${part}${this.instanceFlags}`))
      .join(' | ');
  }

  private shownPath(path: string): string {
    const rel = relative(this.io.cwd, path);
    return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  }

  private step(n: number, title: string): void {
    this.say(`${n === 1 ? '' : '\n'}==> ${n}/4  ${title}`);
  }

  private echo(line: string): void {
    this.say(`$ ${this.cmd(line)}`);
  }

  say(text: string): void {
    this.progress('');
    this.io.stdout.write(`${text}\n`);
  }

  /** One line of progress on stderr: rewritten in place on a terminal, else printed when it changes. */
  progress(line: string): void {
    if (line === this.shownProgress) return;
    if (this.io.isTTY) this.io.stderr.write(`\r\x1b[K${line}`);
    else if (line) this.io.stderr.write(`${line}\n`);
    this.shownProgress = line;
  }

  /** Runs a step's command; a non-zero exit (its message already printed) stops the demo. */
  private async exitOk(code: Promise<number>): Promise<void> {
    const exit = await code;
    if (exit !== EXIT_OK) throw new FathomError('EDEMO', `the step above failed (exit status ${exit})`);
  }
}

/** `a`, `a and b`, `a, b and c`. */
function and(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** A stdout that keeps what a command writes (inject's YAML, piped to apply). */
class Capture extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    callback();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function bind(_operands: readonly string[], flags: FlagValues): DemoArgs {
  return { detach: flags['detach'] === true, up: bindUpFlags(flags) };
}

export const command = defineCommand<DemoArgs>({
  name: 'demo',
  description:
    'Tell the story Fathom is sold on, on this host: start the mesh, run the nodevoto app (web, emoji, voting, ' +
    'vote-bot) un-meshed, mesh it with inject | apply and no change to the app, wait for traffic, and show ' +
    "which deployment fails. Keeps running until Ctrl-C, then deletes nodevoto and runs 'fathom down'; with " +
    "--detach it returns and leaves everything running ('fathom down' stops it). Needs Linux and root.",
  examples: ['sudo npm run demo', 'sudo fathom demo --detach', 'fathom demo --detach --state-dir /tmp/mesh --tag demo --pod-cidr 198.18.9.0/24 --service-cidr 198.19.9.0/24'],
  operands: [],
  options: [{ flags: '--detach', description: 'return once stat has data, leaving the mesh and nodevoto running' }, ...upCommand.options],
  bind,
  run,
});
