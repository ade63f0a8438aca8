// Translates endpoints as the watchers see them (an IP, a port and maybe the pod behind it) into the
// WeightedAddr messages proxies balance over: identity for mTLS, protocol hints and metric labels.
import { identityName } from '../../lib/identity-name.js';
import { tcpAddressToProto } from '../../api/net-addr.js';
import type { Update, WeightedAddr } from '../../api/gen/fathom/destination.js';
import type { Pod } from '../../platform/platform.js';

/** Linkerd's controller sends this weight for every endpoint; proxies treat endpoints alike. */
export const DEFAULT_WEIGHT = 10_000;

/** Linkerd 2.11's default opaque ports: server-speaks-first protocols that detection would stall on. */
export const DEFAULT_OPAQUE_PORTS: ReadonlySet<number> = new Set([25, 587, 3306, 4444, 5432, 6379, 9300, 11211]);

/** What the translation needs to know about the mesh. */
export interface MeshNames {
  readonly trustDomain: string;
  /** The control plane's namespace, part of every identity name (`fathom`). */
  readonly controlNamespace: string;
  /** Opaque ports for pods and services that do not say otherwise. */
  readonly defaultOpaquePorts: ReadonlySet<number>;
}

/** One address of a destination. */
export interface Address {
  readonly ip: string;
  readonly port: number;
  readonly pod: Pod | undefined;
}

/** Whether `port` on `pod` is opaque (the pod's annotation, else the default list). */
export function isOpaquePort(pod: Pod, port: number, mesh: MeshNames): boolean {
  return (pod.opaquePorts ?? mesh.defaultOpaquePorts).has(port);
}

/** The labels a pod gives its endpoints; proxies export them with a `dst_` prefix. */
export function podMetricLabels(pod: Pod, mesh: MeshNames): Record<string, string> {
  const labels: Record<string, string> = { pod: pod.name, serviceaccount: pod.serviceAccount };
  if (pod.owner) labels[pod.owner.kind.toLowerCase()] = pod.owner.name;
  const hash = pod.labels['pod-template-hash'];
  if (hash !== undefined) labels.pod_template_hash = hash;
  if (pod.meshed) labels.control_plane_ns = mesh.controlNamespace;
  return labels;
}

export function toWeightedAddr(address: Address, mesh: MeshNames): WeightedAddr {
  const { pod } = address;
  const out: WeightedAddr = {
    addr: tcpAddressToProto(address.ip, address.port),
    weight: DEFAULT_WEIGHT,
    metricLabels: pod ? podMetricLabels(pod, mesh) : {},
    tlsIdentity: undefined,
    protocolHint: undefined,
    authorityOverride: undefined,
    http2: undefined,
    resourceRef: pod
      ? { kind: { $case: 'resource', value: { group: '', kind: 'Pod', name: pod.name, namespace: pod.namespace, section: '', port: 0 } } }
      : undefined,
  };
  if (pod?.meshed) {
    const name = identityName(pod.serviceAccount, pod.namespace, mesh.trustDomain, mesh.controlNamespace);
    out.tlsIdentity = { strategy: { $case: 'dnsLikeIdentity', value: { name } }, serverName: undefined };
    // A meshed peer always accepts HTTP/2 from another proxy; an opaque port additionally goes straight to
    // the peer's inbound listener with a transport header naming the port.
    out.protocolHint = {
      protocol: { $case: 'h2', value: {} },
      opaqueTransport:
        isOpaquePort(pod, address.port, mesh) && pod.proxyInboundPort !== undefined ? { inboundPort: pod.proxyInboundPort } : undefined,
    };
  }
  return out;
}

/** Set-level labels of a service's endpoints. */
export function serviceMetricLabels(namespace: string, service: string | undefined): Record<string, string> {
  return service === undefined ? { namespace } : { namespace, service };
}

export function addUpdate(addresses: readonly Address[], setLabels: Record<string, string>, mesh: MeshNames): Update {
  return { update: { $case: 'add', value: { addrs: addresses.map((a) => toWeightedAddr(a, mesh)), metricLabels: setLabels } } };
}

export function removeUpdate(addresses: readonly Address[]): Update {
  return { update: { $case: 'remove', value: { addrs: addresses.map((a) => tcpAddressToProto(a.ip, a.port)) } } };
}

export function noEndpointsUpdate(exists: boolean): Update {
  return { update: { $case: 'noEndpoints', value: { exists } } };
}
