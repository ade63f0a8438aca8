// Computes the DestinationProfile of a target from the platform (service, pod, ServiceProfile) and
// follows changes, handing a subscriber a new profile only when what it would receive changed.
import { logger } from '../../lib/log.js';
import { DestinationProfile } from '../../api/gen/fathom/destination.js';
import type { Metadata } from '../../api/gen/fathom/meta.js';
import type { Platform, Service } from '../../platform/platform.js';
import { isOpaquePort, toWeightedAddr, type MeshNames } from './endpoint-translator.js';
import { DEFAULT_RETRY_BUDGET, translateProfile } from './profile-translator.js';
import type { Target } from './target.js';

const log = logger('destination');

export interface ProfileContext extends MeshNames {
  readonly clusterDomain: string;
}

function resourceRef(kind: string, namespace: string, name: string, port = 0): Metadata {
  return { kind: { $case: 'resource', value: { group: kind === 'ServiceProfile' ? 'fathom.io' : '', kind, name, namespace, section: '', port } } };
}

/** A profile for something the controller does not know: the proxy then uses the original destination. */
function unknownProfile(port: number, ctx: ProfileContext): DestinationProfile {
  return { ...DestinationProfile.fromPartial({}), retryBudget: DEFAULT_RETRY_BUDGET, opaqueProtocol: ctx.defaultOpaquePorts.has(port) };
}

function serviceProfile(service: Service, port: number, clientNamespace: string | undefined, platform: Platform, ctx: ProfileContext): DestinationProfile {
  const fqn = `${service.name}.${service.namespace}.svc.${ctx.clusterDomain}`;
  // A profile in the client's namespace overrides the service's own, as in Linkerd.
  const stored =
    (clientNamespace !== undefined ? platform.getServiceProfile(clientNamespace, fqn) : undefined) ?? platform.getServiceProfile(service.namespace, fqn);
  const translated = translateProfile(stored?.spec, port);
  if (stored && translated.problems.length > 0) {
    log.warn('service profile partly ignored', { profile: `${stored.namespace}/${stored.name}`, problems: translated.problems.join('; ') });
  }
  return {
    ...DestinationProfile.fromPartial({}),
    fullyQualifiedName: fqn,
    opaqueProtocol: (service.opaquePorts ?? ctx.defaultOpaquePorts).has(port),
    routes: translated.routes,
    retryBudget: translated.retryBudget,
    dstOverrides: translated.dstOverrides,
    parentRef: resourceRef('Service', service.namespace, service.name, port),
    profileRef: stored ? resourceRef('ServiceProfile', stored.namespace, stored.name) : undefined,
  };
}

/** The profile of `target` as of now. */
export function resolveProfile(target: Target, clientNamespace: string | undefined, platform: Platform, ctx: ProfileContext): DestinationProfile {
  switch (target.kind) {
    case 'external':
      return unknownProfile(target.port, ctx);
    case 'service': {
      const service = platform.getService(target.namespace, target.name);
      return service ? serviceProfile(service, target.port, clientNamespace, platform, ctx) : unknownProfile(target.port, ctx);
    }
    case 'ip': {
      const service = platform.serviceByClusterIP(target.ip);
      if (service) return serviceProfile(service, target.port, clientNamespace, platform, ctx);
      const pod = platform.podByIP(target.ip);
      if (!pod) return unknownProfile(target.port, ctx);
      // A pod addressed directly: one endpoint, no balancing.
      return {
        ...DestinationProfile.fromPartial({}),
        opaqueProtocol: isOpaquePort(pod, target.port, ctx),
        retryBudget: DEFAULT_RETRY_BUDGET,
        endpoint: toWeightedAddr({ ip: target.ip, port: target.port, pod }, ctx),
      };
    }
  }
}

/**
 * Follows the profile of one target: calls `send` with the current profile at once, then whenever a
 * platform change alters it. Returns the unsubscribe function.
 */
export function watchProfile(
  target: Target,
  clientNamespace: string | undefined,
  platform: Platform,
  ctx: ProfileContext,
  send: (profile: DestinationProfile) => void,
): () => void {
  let last: Buffer | undefined;
  const update = () => {
    const profile = resolveProfile(target, clientNamespace, platform, ctx);
    const bytes = Buffer.from(DestinationProfile.encode(profile).finish());
    if (last !== undefined && last.equals(bytes)) return;
    last = bytes;
    send(profile);
  };
  update();
  // Endpoint changes never alter a profile; everything else might (a service's annotations or cluster
  // IP, a pod behind an IP, a stored profile), and re-reading is cheap next to a needless send.
  return platform.watch((event) => {
    if (event.kind !== 'endpoints') update();
  });
}
