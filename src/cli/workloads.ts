// Where each Kubernetes workload kind keeps the pod template whose annotations put its pods in the mesh.
import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';

/**
 * The path from the object to its pod template (the map holding the pods' `metadata` and `spec`), per
 * kind. A bare Pod is its own template. These are the kinds `linkerd inject` handles.
 */
const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  Pod: [],
};

export const WORKLOAD_KINDS: readonly string[] = Object.keys(POD_TEMPLATE_PATHS);

export interface Workload {
  /** The kind in lower case, as reports name it (`deployment "web"`). */
  readonly kind: string;
  readonly name: string;
  readonly object: YAMLMap;
  /** The pod template, or undefined when the object has none (or not as a mapping). */
  readonly template: YAMLMap | undefined;
  /** Where the template is, for messages: `spec.template`, or `the pod` for a Pod. */
  readonly templatePath: string;
}

/** The object as a workload, or undefined for kinds without pods (Service, Namespace, ConfigMap...). */
export function workloadOf(object: YAMLMap): Workload | undefined {
  const kind = object.get('kind');
  if (typeof kind !== 'string' || !Object.hasOwn(POD_TEMPLATE_PATHS, kind)) return undefined;
  const path = POD_TEMPLATE_PATHS[kind] ?? [];
  const template = path.length === 0 ? object : object.getIn(path, true);
  return {
    kind: kind.toLowerCase(),
    name: objectName(object),
    object,
    template: isMap(template) ? template : undefined,
    templatePath: path.length === 0 ? 'the pod' : path.join('.'),
  };
}

function objectName(object: YAMLMap): string {
  const name = object.getIn(['metadata', 'name']);
  if (typeof name === 'string' || typeof name === 'number') return String(name);
  const generateName = object.getIn(['metadata', 'generateName']);
  return typeof generateName === 'string' ? `${generateName}*` : '';
}

/** A scalar value at `path` under `map`, or undefined. */
export function scalarAt(map: YAMLMap, path: readonly string[]): unknown {
  const node = map.getIn(path, true);
  return isScalar(node) ? node.value : undefined;
}

/** The template's pod spec runs a container with this name (the proxy added by a platform). */
export function hasContainer(template: YAMLMap, name: string): boolean {
  const containers = template.getIn(['spec', 'containers'], true);
  return isSeq(containers) && containers.items.some((c) => isMap(c) && c.get('name') === name);
}
