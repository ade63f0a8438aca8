// The Kubernetes objects the local platform runs (Namespace, ServiceAccount, Deployment, Service,
// ServiceProfile), as they are stored: the applied object with defaults filled in, in Kubernetes' own
// field names, so that `fathom get -o yaml` reads like kubectl.

export const KINDS = ['Namespace', 'ServiceAccount', 'Deployment', 'Service', 'ServiceProfile'] as const;
export type Kind = (typeof KINDS)[number];

export interface ObjectMeta {
  name: string;
  /** Absent for Namespaces. */
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  creationTimestamp: string;
  uid: string;
  generation: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  /** Only `fieldRef` (metadata.name, metadata.namespace, status.podIP, spec.serviceAccountName) is understood. */
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface ContainerPortSpec {
  name?: string;
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  workingDir?: string;
  ports?: ContainerPortSpec[];
  readinessProbe?: Probe;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    containers: ContainerSpec[];
    serviceAccountName?: string;
    terminationGracePeriodSeconds?: number;
  };
}

export interface Deployment {
  apiVersion: string;
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate };
}

export interface ServicePortSpec {
  name?: string;
  port: number;
  targetPort: number | string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Service {
  apiVersion: string;
  kind: 'Service';
  metadata: ObjectMeta;
  spec: { type: 'ClusterIP'; clusterIP: string; ports: ServicePortSpec[]; selector?: Record<string, string> };
}

export interface Namespace {
  apiVersion: string;
  kind: 'Namespace';
  metadata: ObjectMeta;
}

export interface ServiceAccount {
  apiVersion: string;
  kind: 'ServiceAccount';
  metadata: ObjectMeta;
}

export interface ServiceProfileObject {
  apiVersion: string;
  kind: 'ServiceProfile';
  metadata: ObjectMeta;
  spec: Record<string, unknown>;
}

export type StoredObject = Namespace | ServiceAccount | Deployment | Service | ServiceProfileObject;

/** Where a Deployment's relative command paths and workingDir resolve: the applied file's directory. */
export const SOURCE_DIR_ANNOTATION = 'local.fathom.io/source-dir';

/** Kubernetes' resource names, as `fathom apply` reports them (`deployment.apps/web created`). */
export const RESOURCE_NAMES: Readonly<Record<Kind, string>> = {
  Namespace: 'namespace',
  ServiceAccount: 'serviceaccount',
  Deployment: 'deployment.apps',
  Service: 'service',
  ServiceProfile: 'serviceprofile.fathom.io',
};

export function isNamespaced(kind: Kind): boolean {
  return kind !== 'Namespace';
}

/** `<kind>_<namespace>_<name>` (namespace empty for Namespaces): the object's file name in the store. */
export function objectKey(kind: Kind, namespace: string | undefined, name: string): string {
  return `${kind}_${namespace ?? ''}_${name}`;
}

/** Namespaces that exist without being applied, as in Kubernetes. */
export const BUILTIN_NAMESPACES: readonly string[] = ['default'];
