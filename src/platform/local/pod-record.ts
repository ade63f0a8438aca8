// A pod as the agent creates it from a Deployment's template: names, labels, the containers to run
// (relative paths resolved, env complete), the mesh's init step and proxy, and its network identity.
// Written to `pods/<ns>_<pod>.json`; the pod's supervisor runs it and the controller's platform reads it.
import { createHash, randomInt } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type { ContainerSpec, Deployment, EnvVar } from './objects.js';
import { SOURCE_DIR_ANNOTATION } from './objects.js';

export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly creationTimestamp: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly owner: { readonly kind: 'Deployment'; readonly name: string; readonly uid: string };
  /** The `pod-template-hash` of the template the pod was made from. */
  readonly templateHash: string;
  readonly serviceAccount: string;
  readonly meshed: boolean;
  /** Run to completion, in order, before anything else (the mesh's redirect rules). */
  readonly initContainers: readonly ContainerSpec[];
  /** Started before the app containers, which wait until these are ready (the proxy). */
  readonly sidecars: readonly ContainerSpec[];
  /** The app's containers. */
  readonly containers: readonly ContainerSpec[];
  readonly terminationGracePeriodSeconds: number;
  readonly ip: string;
  /** The pod's network namespace (`ip netns` name). */
  readonly netns: string;
  /** The host end of the pod's veth. */
  readonly hostVeth: string;
  /** Set when the pod is being deleted. */
  deletionTimestamp?: string;
}

/** Kubernetes' alphabet for generated name parts: no vowels (no words), no look-alike digits. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The pod template's hash, as the `pod-template-hash` label and the middle of pod names. */
export function templateHash(deployment: Deployment): string {
  const digest = createHash('sha256').update(JSON.stringify(deployment.spec.template)).digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[digest[i]! % ALPHABET.length];
  return out;
}

export function podName(deployment: string, hash: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `${deployment}-${hash}-${suffix}`;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The agent's (the host's) UTS namespace, `uts:[<inode>]`, handed to supervisors, which must not be in it. */
export const HOST_UTS_ENV = 'FATHOM_LOCAL_HOST_UTS';

/** Kubernetes' default grace period. */
export const DEFAULT_GRACE_SECONDS = 30;

export interface PodFacts {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly serviceAccount: string;
  readonly node: string;
}

/**
 * A container as the supervisor runs it: a relative command path or workingDir resolved against the
 * applied file's directory (also the default working directory), `valueFrom.fieldRef` env filled in,
 * and PATH (with /usr/sbin) and HOSTNAME added unless the container sets them.
 */
export function resolveContainer(container: ContainerSpec, sourceDir: string, pod: PodFacts): ContainerSpec {
  const command = [...(container.command ?? [])];
  if (command[0] !== undefined && command[0].includes('/') && !isAbsolute(command[0])) command[0] = resolve(sourceDir, command[0]);
  const workingDir = container.workingDir === undefined ? sourceDir : resolve(sourceDir, container.workingDir);
  const fields: Record<string, string> = {
    'metadata.name': pod.name,
    'metadata.namespace': pod.namespace,
    'status.podIP': pod.ip,
    'spec.serviceAccountName': pod.serviceAccount,
    'spec.nodeName': pod.node,
  };
  const env: EnvVar[] = (container.env ?? []).map((e) => ({ name: e.name, value: e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath ?? ''] ?? '' }));
  const has = (name: string) => env.some((e) => e.name === name);
  if (!has('PATH')) env.unshift({ name: 'PATH', value: DEFAULT_PATH });
  if (!has('HOSTNAME')) env.push({ name: 'HOSTNAME', value: pod.name });
  if (!has('HOME')) env.push({ name: 'HOME', value: '/root' });
  return { ...container, command, workingDir, env };
}

/** The directory relative paths of a Deployment resolve against. */
export function sourceDirOf(deployment: Deployment): string {
  return deployment.metadata.annotations[SOURCE_DIR_ANNOTATION] ?? '/';
}
