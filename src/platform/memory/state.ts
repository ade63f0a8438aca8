// The in-memory platform's input shapes (what tests and `--memory-state` files write), their defaults,
// and how they become the Platform's Service, Pod and Endpoint objects.
import {
  OPAQUE_PORTS_ANNOTATION,
  parseOpaquePorts,
  type ContainerPort,
  type Endpoint,
  type Pod,
  type Service,
  type ServiceProfile,
  type ServicePort,
  type ServiceProfileSpec,
} from '../platform.js';

type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServiceInput {
  namespace: string;
  name: string;
  clusterIP?: string;
  ports: Array<{ name?: string; port: number; targetPort?: number | string; protocol?: Protocol }>;
  selector?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PodInput {
  namespace: string;
  name: string;
  ip?: string;
  node?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  owner?: { kind: string; name: string };
  serviceAccount?: string;
  /** Default true. */
  ready?: boolean;
  /** Default false. */
  meshed?: boolean;
  /** Default 4143 for meshed pods. */
  proxyInboundPort?: number;
  containerPorts?: Array<{ name?: string; containerPort: number; protocol?: Protocol }>;
}

export interface ProfileInput {
  namespace: string;
  name: string;
  spec: ServiceProfileSpec;
}

/** Everything the memory platform holds; also the format of a `--memory-state` JSON file. */
export interface MemoryState {
  services?: ServiceInput[];
  pods?: PodInput[];
  profiles?: ProfileInput[];
  /** token → the service account it authenticates. */
  tokens?: Record<string, { namespace: string; serviceAccount: string }>;
}

const DEFAULT_INBOUND_PORT = 4143;

function opaquePortsOf(annotations: Record<string, string>, named?: (name: string) => number | undefined): Set<number> | undefined {
  const value = annotations[OPAQUE_PORTS_ANNOTATION];
  if (value === undefined) return undefined;
  const parsed = parseOpaquePorts(value, named);
  if (typeof parsed === 'string') throw new Error(`annotation ${OPAQUE_PORTS_ANNOTATION}: ${parsed}`);
  return parsed;
}

export function toService(input: ServiceInput): Service {
  if (!input.namespace || !input.name) throw new Error('a service needs a namespace and a name');
  const annotations = { ...(input.annotations ?? {}) };
  const ports: ServicePort[] = (input.ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    targetPort: p.targetPort ?? p.port,
    protocol: p.protocol ?? 'TCP',
  }));
  return {
    namespace: input.namespace,
    name: input.name,
    clusterIP: input.clusterIP,
    ports,
    selector: input.selector ? { ...input.selector } : undefined,
    annotations,
    opaquePorts: opaquePortsOf(annotations),
  };
}

export function toPod(input: PodInput): Pod {
  if (!input.namespace || !input.name) throw new Error('a pod needs a namespace and a name');
  const containerPorts: ContainerPort[] = (input.containerPorts ?? []).map((p) => ({
    name: p.name,
    containerPort: p.containerPort,
    protocol: p.protocol ?? 'TCP',
  }));
  const annotations = { ...(input.annotations ?? {}) };
  const meshed = input.meshed ?? false;
  const named = (name: string) => containerPorts.find((p) => p.name === name)?.containerPort;
  return {
    namespace: input.namespace,
    name: input.name,
    ip: input.ip,
    node: input.node ?? 'local',
    labels: { ...(input.labels ?? {}) },
    annotations,
    owner: input.owner ? { kind: input.owner.kind, name: input.owner.name } : undefined,
    serviceAccount: input.serviceAccount ?? 'default',
    ready: input.ready ?? true,
    meshed,
    proxyInboundPort: meshed ? (input.proxyInboundPort ?? DEFAULT_INBOUND_PORT) : undefined,
    opaquePorts: opaquePortsOf(annotations, named),
    containerPorts,
  };
}

export function toProfile(input: ProfileInput): ServiceProfile {
  if (!input.namespace || !input.name) throw new Error('a service profile needs a namespace and a name');
  return { namespace: input.namespace, name: input.name, spec: input.spec ?? {} };
}

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** Endpoints as a Kubernetes endpoints controller computes them: pods with an IP matching the selector. */
export function computeEndpoints(service: Service, pods: Iterable<Pod>): Endpoint[] {
  const selector = service.selector;
  if (!selector) return [];
  const out: Endpoint[] = [];
  for (const pod of pods) {
    if (pod.namespace !== service.namespace || pod.ip === undefined || !selects(selector, pod.labels)) continue;
    for (const sp of service.ports) {
      const port =
        typeof sp.targetPort === 'number' ? sp.targetPort : pod.containerPorts.find((p) => p.name === sp.targetPort)?.containerPort;
      if (port === undefined) continue; // the pod does not declare the named port: not an endpoint of it
      out.push({ ip: pod.ip, port, servicePort: sp.port, ready: pod.ready, pod });
    }
  }
  out.sort((a, b) => a.ip.localeCompare(b.ip) || a.servicePort - b.servicePort);
  return out;
}
