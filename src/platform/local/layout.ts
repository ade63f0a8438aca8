// Where things live in a local platform's state directory; the one place that knows the layout
// (documented in docs/local-platform.md).
import { join } from 'node:path';

/** Files are named `<namespace>_<name>`: Kubernetes names never contain `_`. */
export function podKey(namespace: string, name: string): string {
  return `${namespace}_${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const at = key.indexOf('_');
  return { namespace: key.slice(0, at), name: key.slice(at + 1) };
}

export function layout(stateDir: string) {
  return {
    /** Applied objects (desired state), one JSON file each: `<kind>_<namespace>_<name>.json`. */
    objects: join(stateDir, 'objects'),
    /** Pods as the agent created them (spec, IP, network names): `<ns>_<pod>.json`. */
    pods: join(stateDir, 'pods'),
    /** Pods' runtime status, written by each pod's supervisor: `<ns>_<pod>.json`. */
    status: join(stateDir, 'status'),
    /** Per-pod files: `<ns>_<pod>/logs/<container>.log`, `identity/token`. */
    podFiles: join(stateDir, 'podfs'),
    /** One random token per service account, 0600: `<ns>_<sa>.token`. */
    tokens: join(stateDir, 'tokens'),
    run: join(stateDir, 'run'),
    logs: join(stateDir, 'logs'),
    prometheus: join(stateDir, 'prometheus'),
    locks: join(stateDir, 'locks'),
    /** Host changes made by `up` (links, iptables chains, sysctls, directories), undone by `down`. */
    journal: join(stateDir, 'host-changes.json'),
    trustAnchors: join(stateDir, 'trust-anchors.pem'),
  };
}

export type Layout = ReturnType<typeof layout>;

export function podFilesDir(stateDir: string, namespace: string, name: string): string {
  return join(layout(stateDir).podFiles, podKey(namespace, name));
}

export function containerLogPath(stateDir: string, namespace: string, pod: string, container: string): string {
  return join(podFilesDir(stateDir, namespace, pod), 'logs', `${container}.log`);
}

export function tokenPath(stateDir: string, namespace: string, serviceAccount: string): string {
  return join(layout(stateDir).tokens, `${podKey(namespace, serviceAccount)}.token`);
}
