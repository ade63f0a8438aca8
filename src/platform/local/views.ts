// How the local platform's objects look to users: kubectl-style table rows (READY, STATUS, RESTARTS,
// AGE...) and Kubernetes-shaped JSON for `-o json|yaml`, computed from a snapshot.
import type { Deployment, Service } from './objects.js';
import { SOURCE_DIR_ANNOTATION } from './objects.js';
import type { PodView, Snapshot } from './snapshot.js';
import { templateHash } from './pod-record.js';

/** kubectl's age format: 45s, 3m20s, 12m, 5h3m, 20h, 3d4h, 12d. */
export function age(since: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return `${d}d`;
}

/** The STATUS column, as kubectl derives it from the pod's phase and its containers' states. */
export function podStatusText(pod: PodView): string {
  if (pod.terminating) return 'Terminating';
  const status = pod.status;
  if (!status) return 'ContainerCreating';
  const inits = status.initContainers;
  const doneInits = inits.filter((c) => c.state === 'terminated' && c.lastExitCode === 0).length;
  if (doneInits < inits.length) {
    const failing = inits.find((c) => c.restartCount > 0 || (c.state === 'waiting' && c.reason !== 'ContainerCreating' && c.reason !== 'PodInitializing'));
    return failing?.reason ? `Init:${failing.reason}` : `Init:${doneInits}/${inits.length}`;
  }
  const waiting = status.containers.find((c) => c.state === 'waiting' && c.reason && c.reason !== 'PodInitializing' && c.reason !== 'ContainerCreating');
  if (waiting) return waiting.reason!;
  if (status.phase === 'Pending') return status.containers.some((c) => c.state === 'running') ? 'PodInitializing' : 'ContainerCreating';
  return 'Running';
}

export interface PodRow {
  readonly namespace: string;
  readonly name: string;
  readonly ready: string;
  readonly status: string;
  readonly restarts: number;
  readonly age: string;
  readonly ip: string;
  readonly meshed: boolean;
}

export function podRow(pod: PodView, now: number): PodRow {
  const containers = pod.status?.containers ?? [];
  const total = pod.record.sidecars.length + pod.record.containers.length;
  return {
    namespace: pod.record.namespace,
    name: pod.record.name,
    ready: `${containers.filter((c) => c.ready).length}/${total}`,
    status: podStatusText(pod),
    restarts: containers.reduce((n, c) => n + c.restartCount, 0),
    age: age(pod.record.creationTimestamp, now),
    ip: pod.record.ip,
    meshed: pod.record.meshed,
  };
}

export function podJson(pod: PodView): object {
  const r = pod.record;
  const statuses = pod.status?.containers ?? [];
  const containerState = (name: string) => statuses.find((c) => c.name === name);
  const stateOf = (name: string) => {
    const c = containerState(name);
    if (!c) return { waiting: { reason: 'ContainerCreating' } };
    if (c.state === 'running') return { running: { startedAt: c.startedAt } };
    if (c.state === 'terminated') return { terminated: { exitCode: c.lastExitCode ?? 0, reason: c.reason } };
    return { waiting: { reason: c.reason, ...(c.message ? { message: c.message } : {}) } };
  };
  const all = [...r.sidecars, ...r.containers];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: r.name,
      namespace: r.namespace,
      uid: r.uid,
      creationTimestamp: r.creationTimestamp,
      ...(r.deletionTimestamp ? { deletionTimestamp: r.deletionTimestamp } : {}),
      labels: r.labels,
      annotations: r.annotations,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${r.owner.name}-${r.templateHash}`, controller: true }],
    },
    spec: {
      nodeName: 'local',
      serviceAccountName: r.serviceAccount,
      initContainers: r.initContainers.map((c) => ({ name: c.name, image: c.image ?? '' })),
      containers: all.map((c) => ({ name: c.name, image: c.image ?? '', command: c.command, args: c.args, ports: c.ports })),
    },
    status: {
      phase: pod.terminating ? 'Running' : (pod.status?.phase ?? 'Pending'),
      podIP: r.ip,
      podIPs: [{ ip: r.ip }],
      hostIP: 'local',
      ...(pod.status ? { startTime: pod.status.startTime } : {}),
      conditions: [{ type: 'Ready', status: pod.ready ? 'True' : 'False' }],
      containerStatuses: all.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        ready: containerState(c.name)?.ready ?? false,
        started: containerState(c.name)?.state === 'running',
        restartCount: containerState(c.name)?.restartCount ?? 0,
        state: stateOf(c.name),
      })),
    },
  };
}

export interface DeploymentCounts {
  readonly replicas: number;
  readonly ready: number;
  readonly updated: number;
  readonly available: number;
}

export function deploymentCounts(d: Deployment, snap: Snapshot): DeploymentCounts {
  const pods = snap.pods.filter((p) => p.record.owner.uid === d.metadata.uid && !p.terminating);
  const hash = templateHash(d);
  const ready = pods.filter((p) => p.ready).length;
  return { replicas: pods.length, ready, updated: pods.filter((p) => p.record.templateHash === hash).length, available: ready };
}

export function deploymentJson(d: Deployment, snap: Snapshot): object {
  const counts = deploymentCounts(d, snap);
  const { [SOURCE_DIR_ANNOTATION]: _source, ...annotations } = d.metadata.annotations;
  return {
    ...d,
    metadata: { ...d.metadata, annotations },
    status: {
      observedGeneration: d.metadata.generation,
      replicas: counts.replicas,
      readyReplicas: counts.ready,
      updatedReplicas: counts.updated,
      availableReplicas: counts.available,
    },
  };
}

/** The PORT(S) column: `80/TCP,443/TCP`. */
export function servicePorts(s: Service): string {
  return s.spec.ports.map((p) => `${p.port}/${p.protocol}`).join(',');
}

export function selectorText(selector: Readonly<Record<string, string>> | undefined): string {
  return selector && Object.keys(selector).length > 0 ? Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}
