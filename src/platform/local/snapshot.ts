// Everything a local platform instance holds at one moment, read from its state directory: the applied
// objects, the pods the agent made and their supervisors' status. The agent, the controller's platform
// and `fathom get` all read the cluster through this one view.
import { join } from 'node:path';
import { listDir, readJson } from './files.js';
import { layout } from './layout.js';
import type { Deployment, Namespace, Service, ServiceAccount, ServiceProfileObject, StoredObject } from './objects.js';
import type { PodRecord } from './pod-record.js';
import { readStatus, type PodStatus } from './pod-status.js';

export interface PodView {
  readonly record: PodRecord;
  readonly status: PodStatus | undefined;
  readonly terminating: boolean;
  /** Running, every container ready, and not being deleted: what makes it an endpoint. */
  readonly ready: boolean;
}

export interface Snapshot {
  readonly namespaces: readonly Namespace[];
  readonly serviceAccounts: readonly ServiceAccount[];
  readonly deployments: readonly Deployment[];
  readonly services: readonly Service[];
  readonly profiles: readonly ServiceProfileObject[];
  readonly pods: readonly PodView[];
}

export function loadObjects(stateDir: string): StoredObject[] {
  const dir = layout(stateDir).objects;
  return listDir(dir).flatMap((file) => {
    const o = file.endsWith('.json') ? readJson<StoredObject>(join(dir, file)) : undefined;
    return o ? [o] : [];
  });
}

export function loadPods(stateDir: string): PodView[] {
  const dir = layout(stateDir).pods;
  return listDir(dir).flatMap((file) => {
    const record = file.endsWith('.json') ? readJson<PodRecord>(join(dir, file)) : undefined;
    if (!record) return [];
    const status = readStatus(stateDir, record.namespace, record.name);
    const terminating = record.deletionTimestamp !== undefined;
    return [{ record, status, terminating, ready: !terminating && status?.ready === true }];
  });
}

export function loadSnapshot(stateDir: string): Snapshot {
  const objects = loadObjects(stateDir);
  const of = <K extends StoredObject['kind']>(kind: K) => objects.filter((o): o is Extract<StoredObject, { kind: K }> => o.kind === kind);
  return {
    namespaces: of('Namespace'),
    serviceAccounts: of('ServiceAccount'),
    deployments: of('Deployment'),
    services: of('Service'),
    profiles: of('ServiceProfile'),
    pods: loadPods(stateDir),
  };
}

export interface PortEndpoint {
  readonly ip: string;
  readonly port: number;
  readonly pod: PodView;
}

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * A service port's endpoints: pods of its namespace matching the selector, with the target port
 * resolved per pod (a name is looked up among the pod's app containers' ports). Ready or not.
 */
export function portEndpoints(service: Service, port: Service['spec']['ports'][number], pods: readonly PodView[]): PortEndpoint[] {
  const selector = service.spec.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const out: PortEndpoint[] = [];
  for (const pod of pods) {
    const r = pod.record;
    if (r.namespace !== service.metadata.namespace || pod.terminating || !selects(selector, r.labels)) continue;
    const target =
      typeof port.targetPort === 'number' ? port.targetPort : r.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === port.targetPort)?.containerPort;
    if (target !== undefined) out.push({ ip: r.ip, port: target, pod });
  }
  return out;
}
