// A pod's supervisor: one detached process per pod, running inside the pod's network namespace (and
// seeing its hosts file), that runs the init containers, then the sidecars until they are ready, then
// the app containers, keeps them running, reports status to the state directory, and on SIGTERM stops
// the app first and the proxy last. It outlives the CLI, the agent and the controller.
import { mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../../lib/log.js';
import { Container } from './container.js';
import { readJson } from './files.js';
import { containerLogPath, layout, podFilesDir, podKey } from './layout.js';
import { DEFAULT_GRACE_SECONDS, HOST_UTS_ENV, type PodRecord } from './pod-record.js';
import { writeStatus, type ContainerStatus, type PodStatus } from './pod-status.js';

const log = logger('supervisor');

/** How long sidecars get after the app has stopped. */
const SIDECAR_GRACE_MS = 5_000;

export class Supervisor {
  private readonly init: Container[];
  private readonly sidecars: Container[];
  private readonly apps: Container[];
  private appsStarted = false;
  private stopping = false;
  private writeTimer: NodeJS.Timeout | undefined;
  private readonly startTime = new Date().toISOString();

  constructor(
    private readonly stateDir: string,
    private readonly pod: PodRecord,
  ) {
    mkdirSync(join(podFilesDir(stateDir, pod.namespace, pod.name), 'logs'), { recursive: true, mode: 0o750 });
    const make = (spec: PodRecord['containers'][number], runToCompletion: boolean) =>
      new Container(spec, {
        logPath: containerLogPath(stateDir, pod.namespace, pod.name, spec.name),
        podIp: pod.ip,
        runToCompletion,
        onChange: () => this.changed(),
      });
    this.init = pod.initContainers.map((c) => make(c, true));
    this.sidecars = pod.sidecars.map((c) => make(c, false));
    this.apps = pod.containers.map((c) => make(c, false));
  }

  async run(): Promise<void> {
    this.writeNow();
    for (const c of this.init) {
      c.start();
      await c.whenCompleted();
      if (this.stopping) return;
    }
    for (const c of this.sidecars) c.start();
    // The app starts only once its proxy is ready, so its first connections are already meshed.
    await Promise.all(this.sidecars.map((c) => c.whenReady()));
    if (this.stopping) return;
    this.appsStarted = true;
    for (const c of this.apps) c.start();
  }

  /** Stops the app containers, then the sidecars, writes the final status. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const grace = (this.pod.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    await Promise.all(this.init.map((c) => c.stop(grace)));
    await Promise.all(this.apps.map((c) => c.stop(grace)));
    await Promise.all(this.sidecars.map((c) => c.stop(SIDECAR_GRACE_MS)));
    this.writeNow();
  }

  private changed(): void {
    if (this.writeTimer) return;
    this.writeTimer = setTimeout(() => this.writeNow(), 10);
  }

  private writeNow(): void {
    clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    const waiting = (c: Container): ContainerStatus =>
      !this.appsStarted && c.status.state === 'waiting' && c.status.restartCount === 0 ? { ...c.status, reason: 'PodInitializing' } : c.status;
    const containers = [...this.sidecars.map((c) => c.status), ...this.apps.map(waiting)];
    const status: PodStatus = {
      phase: this.appsStarted ? 'Running' : 'Pending',
      ready: !this.stopping && this.appsStarted && containers.every((c) => c.state === 'running' && c.ready),
      supervisorPid: process.pid,
      startTime: this.startTime,
      initContainers: this.init.map((c) => c.status),
      containers,
      updatedAt: new Date().toISOString(),
    };
    try {
      writeStatus(this.stateDir, this.pod.namespace, this.pod.name, status);
    } catch (err) {
      log.warn('cannot write the pod status', { pod: `${this.pod.namespace}/${this.pod.name}`, error: err as Error });
    }
  }
}

/**
 * The agent starts supervisors in a UTS namespace of their own (pods.ts), so the pod's containers see
 * its name as their hostname, as in Kubernetes (63 characters at most). The hostname is set only after
 * checking that this process's UTS namespace is not the host's: never rename the host.
 */
function setPodHostname(pod: PodRecord, hostUts: string | undefined): void {
  try {
    if (!hostUts || readlinkSync('/proc/self/ns/uts') === hostUts) {
      log.warn('the pod has no UTS namespace of its own; its hostname stays the host\'s', { pod: `${pod.namespace}/${pod.name}` });
      return;
    }
    writeFileSync('/proc/sys/kernel/hostname', pod.name.slice(0, 63));
  } catch (err) {
    log.warn('cannot set the pod hostname', { pod: `${pod.namespace}/${pod.name}`, error: err as Error });
  }
}

/** Entry point: `supervisor-main.js <state-dir> <namespace> <pod>`, started by the agent. */
export async function main(argv: readonly string[]): Promise<void> {
  const [stateDir, namespace, name] = argv;
  if (!stateDir || !namespace || !name) {
    process.stderr.write('usage: supervisor-main.js <state-dir> <namespace> <pod>\n');
    process.exit(2);
  }
  const pod = readJson<PodRecord>(join(layout(stateDir).pods, `${podKey(namespace, name)}.json`));
  if (!pod) {
    process.stderr.write(`supervisor: no pod ${namespace}/${name} in ${stateDir}\n`);
    process.exit(1);
  }
  setPodHostname(pod, process.env[HOST_UTS_ENV]);
  const supervisor = new Supervisor(stateDir, pod);
  const stop = () => void supervisor.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {});
  await supervisor.run();
}
