// Which proxies a tap request reaches: the meshed, addressed pods of the resource, read from the platform,
// each with its proxy's tap address and the identity its certificate must carry.
import { FathomError } from '../../lib/errors.js';
import { identityName } from '../../lib/identity-name.js';
import type { Platform, Pod } from '../../platform/platform.js';
import { formatResource, type ResourceRef } from '../metrics-api/resources.js';

export interface TapTarget {
  readonly pod: Pod;
  /** `namespace/name`, as events and errors name it. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** The proxy's identity: its tap server must present it, and the controller sends it as SNI. */
  readonly identity: string;
}

export interface TargetNames {
  readonly trustDomain: string;
  readonly controlNamespace: string;
  /** The proxies' tap port (4190). */
  readonly tapPort: number;
}

/** The pods of `ref` in `namespace` that can be tapped; throws ENOPODS (with why) when there are none. */
export function tapTargets(platform: Platform, ref: ResourceRef, namespace: string, names: TargetNames): TapTarget[] {
  const candidates = podsOf(platform, ref, namespace);
  const what = `${formatResource(ref)} in namespace ${ref.kind === 'namespace' ? (ref.name ?? namespace) : namespace}`;
  if (candidates.length === 0) throw new FathomError('ENOPODS', `no pods found for ${what}`);
  const tappable = candidates.filter((p) => p.meshed && p.ip !== undefined);
  if (tappable.length === 0) throw new FathomError('ENOPODS', `no meshed pod with an IP for ${what}: ${candidates.length} pod(s), none with a proxy to tap (add them to the mesh with 'fathom inject')`);
  return tappable.map((pod) => ({
    pod,
    key: `${pod.namespace}/${pod.name}`,
    host: pod.ip!,
    port: names.tapPort,
    identity: identityName(pod.serviceAccount, pod.namespace, names.trustDomain, names.controlNamespace),
  }));
}

function podsOf(platform: Platform, ref: ResourceRef, namespace: string): readonly Pod[] {
  if (ref.kind === 'service') {
    const endpoints = platform.getEndpoints(namespace, ref.name!);
    if (endpoints === undefined) throw new FathomError('ENOPODS', `no service ${ref.name} in namespace ${namespace}`);
    const pods = new Map<string, Pod>();
    for (const e of endpoints) if (e.pod) pods.set(e.pod.name, e.pod);
    return [...pods.values()];
  }
  if (!platform.listPods) throw new FathomError('ENOLISTING', `the ${platform.kind} platform cannot list pods, so only services can be tapped (svc/NAME)`);
  const all = platform.listPods();
  switch (ref.kind) {
    case 'deployment':
      return all.filter((p) => p.namespace === namespace && p.owner?.kind === 'Deployment' && (ref.name === undefined || p.owner.name === ref.name));
    case 'pod':
      return all.filter((p) => p.namespace === namespace && (ref.name === undefined || p.name === ref.name));
    case 'namespace':
      return all.filter((p) => p.namespace === (ref.name ?? namespace));
    default:
      throw new FathomError('EBADREQUEST', `cannot tap ${formatResource(ref)}`);
  }
}
