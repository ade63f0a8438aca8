// Creating and deleting a local pod: its record, network, files and supervisor process; and finding
// out whether a pod's supervisor is still alive (pods outlive the agent, which adopts them on start).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../../lib/log.js';
import type { LocalConfig } from './config.js';
import { writeFileAtomic } from './files.js';
import { layout, podFilesDir, podKey } from './layout.js';
import { initContainer, isMeshed, proxyContainer } from './mesh.js';
import type { Deployment } from './objects.js';
import { createPodNetwork, destroyPodNetwork } from './pod-network.js';
import { DEFAULT_GRACE_SECONDS, HOST_UTS_ENV, podName, resolveContainer, sourceDirOf, type PodRecord } from './pod-record.js';
import { statusPath } from './pod-status.js';
import { podTokenFile } from './tokens.js';

const log = logger('agent');

export const SUPERVISOR_MAIN = new URL('./supervisor-main.js', import.meta.url).pathname;

export function recordPath(stateDir: string, namespace: string, name: string): string {
  return join(layout(stateDir).pods, `${podKey(namespace, name)}.json`);
}

export function writeRecord(stateDir: string, record: PodRecord): void {
  writeFileAtomic(recordPath(stateDir, record.namespace, record.name), JSON.stringify(record, null, 2) + '\n');
}

/** Builds the record of a new pod of `deployment` (not yet written or started). */
export function newPodRecord(config: LocalConfig, deployment: Deployment, hash: string, ip: string): PodRecord {
  const template = deployment.spec.template;
  const namespace = deployment.metadata.namespace ?? 'default';
  const name = podName(deployment.metadata.name, hash);
  const serviceAccount = template.spec.serviceAccountName ?? 'default';
  const facts = { name, namespace, ip, serviceAccount, node: 'local' };
  const containers = template.spec.containers.map((c) => resolveContainer(c, sourceDirOf(deployment), facts));
  const meshed = isMeshed(template.metadata.annotations);
  const meshedPod = { namespace, name, serviceAccount, annotations: template.metadata.annotations, containers };
  const tokenFile = join(podFilesDir(config.stateDir, namespace, name), 'identity', 'token');
  return {
    namespace,
    name,
    uid: randomUUID(),
    creationTimestamp: new Date().toISOString(),
    labels: { ...template.metadata.labels, 'pod-template-hash': hash },
    annotations: { ...template.metadata.annotations },
    owner: { kind: 'Deployment', name: deployment.metadata.name, uid: deployment.metadata.uid },
    templateHash: hash,
    serviceAccount,
    meshed,
    initContainers: meshed ? [initContainer(config, meshedPod, process.execPath)] : [],
    sidecars: meshed ? [proxyContainer(config, meshedPod, tokenFile, process.execPath)] : [],
    containers,
    terminationGracePeriodSeconds: template.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
    ip,
    netns: `${config.tag}-${namespace}.${name}`,
    hostVeth: `${config.tag}-${randomBytes(3).toString('hex')}`,
  };
}

/** Writes the record first (so `down` finds whatever follows), then the network, files and supervisor. */
export async function startPod(config: LocalConfig, record: PodRecord, hosts: string): Promise<void> {
  writeRecord(config.stateDir, record);
  const dir = podFilesDir(config.stateDir, record.namespace, record.name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  mkdirSync(join(dir, 'logs'), { recursive: true, mode: 0o750 });
  if (record.meshed) podTokenFile(config.stateDir, record.namespace, record.name, record.serviceAccount);
  await createPodNetwork(config, record, hosts);
  spawnSupervisor(config, record);
}

/** Starts the pod's supervisor in the pod's namespace, detached in its own session. */
export function spawnSupervisor(config: LocalConfig, record: PodRecord): void {
  const out = openSync(join(podFilesDir(config.stateDir, record.namespace, record.name), 'supervisor.log'), 'a', 0o640);
  try {
    // In the pod's network namespace, and in a UTS namespace of its own so the pod's hostname is its name.
    const argv = ['netns', 'exec', record.netns, 'unshare', '--uts', process.execPath, SUPERVISOR_MAIN, config.stateDir, record.namespace, record.name];
    const child = spawn('ip', argv, {
      env: { ...process.env, [HOST_UTS_ENV]: readlinkSync('/proc/self/ns/uts') },
      detached: true,
      stdio: ['ignore', out, out],
      cwd: '/',
    });
    child.once('error', (err) => log.error('cannot start a pod supervisor', { pod: `${record.namespace}/${record.name}`, error: err }));
    child.unref();
  } finally {
    closeSync(out);
  }
}

/** Whether `pid` is this pod's supervisor (the pid may have been reused by something else). */
export function isSupervisor(pid: number | undefined, record: PodRecord): boolean {
  if (!pid) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('supervisor-main.js')) && argv.includes(record.namespace) && argv.includes(record.name);
  } catch {
    return false;
  }
}

/**
 * Stops a pod: SIGTERM to its supervisor (which stops the app, then the proxy), waiting up to the grace
 * period and a margin, then removes its network, files, status and record.
 */
export async function stopPod(stateDir: string, record: PodRecord, supervisorPid: number | undefined): Promise<void> {
  if (isSupervisor(supervisorPid, record)) {
    process.kill(supervisorPid!, 'SIGTERM');
    const deadline = Date.now() + (record.terminationGracePeriodSeconds + 10) * 1000;
    while (isSupervisor(supervisorPid, record) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
  await destroyPodNetwork(record);
  rmSync(podFilesDir(stateDir, record.namespace, record.name), { recursive: true, force: true });
  rmSync(statusPath(stateDir, record.namespace, record.name), { force: true });
  rmSync(recordPath(stateDir, record.namespace, record.name), { force: true });
}
