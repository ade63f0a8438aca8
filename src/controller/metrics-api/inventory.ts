// The platform's side of stat: which resources exist and how many of their pods run and are meshed (the
// MESHED column), read from the controller's platform cache, never from Prometheus.
import type { Platform, Pod } from '../../platform/platform.js';
import type { ResourceKind } from './types.js';

/** What stat reads from the platform. */
export interface Inventory {
  /** Every pod the platform knows that has not finished; undefined when the platform cannot list pods. */
  pods(): readonly Pod[] | undefined;
  /** The pods behind a service, or undefined when there is no such service. */
  servicePods(namespace: string, name: string): readonly Pod[] | undefined;
}

/** A platform that can list its pods; the Platform interface does not promise it (yet). */
interface PodListing {
  listPods(): readonly Pod[];
}

function canList(platform: Platform): platform is Platform & PodListing {
  return typeof (platform as Partial<PodListing>).listPods === 'function';
}

/**
 * The inventory of a platform. Without a `listPods()` method the platform can only describe services'
 * pods, so deployment, pod and namespace rows then come from metrics alone, with MESHED unknown (`-`).
 */
export function platformInventory(platform: Platform): Inventory {
  return {
    pods: () => (canList(platform) ? platform.listPods() : undefined),
    servicePods(namespace, name) {
      const endpoints = platform.getEndpoints(namespace, name);
      if (endpoints === undefined) return undefined;
      const pods = new Map<string, Pod>();
      for (const e of endpoints) if (e.pod) pods.set(e.pod.name, e.pod);
      return [...pods.values()];
    },
  };
}

export interface ResourceCount {
  readonly namespace: string;
  readonly name: string;
  readonly meshed: number;
  readonly running: number;
}

/** The name a pod is counted under for a kind: its deployment, itself, or its namespace. */
function resourceOf(pod: Pod, kind: ResourceKind): string | undefined {
  switch (kind) {
    case 'deployment':
      return pod.owner?.kind === 'Deployment' ? pod.owner.name : undefined;
    case 'pod':
      return pod.name;
    case 'namespace':
      return pod.namespace;
    default:
      return undefined;
  }
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * Meshed and running pods per resource of `kind` (deployment, pod or namespace), keyed `namespace/name`;
 * a namespace is keyed `ns/ns`; undefined when the platform cannot list pods. Services are counted one
 * at a time with countService.
 */
export function countPods(inventory: Inventory, kind: ResourceKind): Map<string, ResourceCount> | undefined {
  const pods = inventory.pods();
  if (pods === undefined) return undefined;
  const counts = new Map<string, { namespace: string; name: string; meshed: number; running: number }>();
  for (const pod of pods) {
    const name = resourceOf(pod, kind);
    if (name === undefined) continue;
    const k = key(pod.namespace, name);
    const c = counts.get(k) ?? { namespace: pod.namespace, name, meshed: 0, running: 0 };
    c.running++;
    if (pod.meshed) c.meshed++;
    counts.set(k, c);
  }
  return counts;
}

export function countService(inventory: Inventory, namespace: string, name: string): ResourceCount | undefined {
  const pods = inventory.servicePods(namespace, name);
  if (pods === undefined) return undefined;
  return { namespace, name, meshed: pods.filter((p) => p.meshed).length, running: pods.length };
}
