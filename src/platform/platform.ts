// The contract between the control plane and whatever runs the workloads (the local network-namespace
// runner, Kubernetes, or the in-memory platform of tests): everything the controller knows about
// services, pods and service profiles comes through this interface.
//
// Reads are synchronous and come from the platform's own cache (informer-style): the controller calls
// them often and from inside event listeners. Events are level-triggered notifications that name what
// changed; a listener re-reads the current state rather than trusting a payload. This keeps the
// controller correct when events are coalesced, repeated or arrive out of order.

/** A port of a Service, as in Kubernetes' ServicePort. */
export interface ServicePort {
  /** The port's name; may be empty when the service has a single port. */
  readonly name: string;
  /** The port clients connect to on the cluster IP. */
  readonly port: number;
  /** The pod's port: a number, or the name of a container port that each pod resolves for itself. */
  readonly targetPort: number | string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Service {
  readonly namespace: string;
  readonly name: string;
  /** The virtual IP, or undefined for a headless service. */
  readonly clusterIP: string | undefined;
  readonly ports: readonly ServicePort[];
  /** Pods with all of these labels back the service; undefined when its endpoints are managed by hand. */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  /**
   * Service ports whose traffic is opaque (no protocol detection), from the `config.fathom.io/opaque-ports`
   * annotation; undefined when not annotated, in which case the controller applies its default list.
   */
  readonly opaquePorts: ReadonlySet<number> | undefined;
}

/** The workload that owns a pod, resolved to the top: a Deployment rather than its ReplicaSet. */
export interface OwnerRef {
  /** Kubernetes kind, e.g. `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `ReplicaSet`. */
  readonly kind: string;
  readonly name: string;
}

export interface ContainerPort {
  readonly name: string | undefined;
  readonly containerPort: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Pod {
  readonly namespace: string;
  readonly name: string;
  /** The pod's IP once it has one. */
  readonly ip: string | undefined;
  /** The node (host) the pod runs on; the local platform has one. */
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly owner: OwnerRef | undefined;
  readonly serviceAccount: string;
  /** Running and passing readiness (for a meshed pod this includes its proxy being ready). */
  readonly ready: boolean;
  /** The pod runs a fathom-proxy sidecar that terminates mTLS for it. */
  readonly meshed: boolean;
  /** For a meshed pod: the port of its proxy's inbound listener (4143 unless configured otherwise). */
  readonly proxyInboundPort: number | undefined;
  /**
   * Pod ports whose traffic is opaque, from the pod's `config.fathom.io/opaque-ports` annotation (with
   * named ports resolved); undefined when not annotated, in which case the controller applies its default.
   */
  readonly opaquePorts: ReadonlySet<number> | undefined;
  /** Declared container ports, used to resolve a Service's named target ports. */
  readonly containerPorts: readonly ContainerPort[];
}

/** One address backing one port of a Service. */
export interface Endpoint {
  readonly ip: string;
  /** The port on the endpoint (the Service port's target port, resolved for this pod). */
  readonly port: number;
  /** The Service port this address serves. */
  readonly servicePort: number;
  /** Whether the address should receive traffic. The controller publishes only ready endpoints. */
  readonly ready: boolean;
  /** The pod behind the address, or undefined when the address is not a pod (endpoints set by hand). */
  readonly pod: Pod | undefined;
}

/**
 * A ServiceProfile object as stored by the platform: `name` is the service's fully qualified name
 * (`<svc>.<ns>.svc.cluster.local`), `namespace` the namespace it lives in (the service's own, or a
 * client's namespace for a client-side override). The spec keeps the Kubernetes field names.
 */
export interface ServiceProfile {
  readonly namespace: string;
  readonly name: string;
  readonly spec: ServiceProfileSpec;
}

export interface ServiceProfileSpec {
  readonly routes?: readonly RouteSpec[];
  readonly retryBudget?: RetryBudgetSpec;
  readonly dstOverrides?: readonly WeightedDstSpec[];
}

export interface RouteSpec {
  readonly name: string;
  readonly condition: RequestMatchSpec;
  readonly responseClasses?: readonly ResponseClassSpec[];
  readonly isRetryable?: boolean;
  /** A duration such as `250ms`; covers the request including retries. */
  readonly timeout?: string;
}

/** Several fields set at once must all match. */
export interface RequestMatchSpec {
  readonly pathRegex?: string;
  readonly method?: string;
  readonly all?: readonly RequestMatchSpec[];
  readonly any?: readonly RequestMatchSpec[];
  readonly not?: RequestMatchSpec;
}

export interface ResponseClassSpec {
  readonly condition: ResponseMatchSpec;
  readonly isFailure?: boolean;
}

export interface ResponseMatchSpec {
  readonly status?: { readonly min?: number; readonly max?: number };
  readonly all?: readonly ResponseMatchSpec[];
  readonly any?: readonly ResponseMatchSpec[];
  readonly not?: ResponseMatchSpec;
}

export interface RetryBudgetSpec {
  readonly retryRatio: number;
  readonly minRetriesPerSecond: number;
  /** A duration such as `10s`. */
  readonly ttl: string;
}

export interface WeightedDstSpec {
  /** `svc.ns.svc.cluster.local[:port]`. */
  readonly authority: string;
  /** A Kubernetes quantity: `1`, `500m`, or a plain number. */
  readonly weight: string | number;
}

/** The outcome of reviewing a service-account token. */
export type TokenReview =
  | { readonly authenticated: true; readonly namespace: string; readonly serviceAccount: string }
  | { readonly authenticated: false; readonly reason: string };

/**
 * What changed, by key. `endpoints` fires for a service whenever any field of its `Endpoint`s changes,
 * including fields of a backing pod (labels, readiness, meshed-ness), so that endpoint watchers need not
 * follow pods. `pod` fires for any change of a pod, with its IP before and after when they differ.
 */
export type PlatformEvent =
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'endpoints'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'pod'; readonly namespace: string; readonly name: string; readonly ips: readonly string[] }
  | { readonly kind: 'profile'; readonly namespace: string; readonly name: string };

export type PlatformListener = (event: PlatformEvent) => void;

export interface Platform {
  /** A short name for logs: `memory`, `local`, `kubernetes`. */
  readonly kind: string;

  /** Loads the initial state and starts following changes; reads are valid once this resolves. */
  start(): Promise<void>;
  /** Stops following changes and releases resources; listeners get no events after this resolves. */
  close(): Promise<void>;

  getService(namespace: string, name: string): Service | undefined;
  /** The service whose cluster IP is `ip`, if any. */
  serviceByClusterIP(ip: string): Service | undefined;
  /**
   * The endpoints of a service, all ports, ready or not; undefined when the service does not exist.
   * An existing service with no pods has an empty list.
   */
  getEndpoints(namespace: string, name: string): readonly Endpoint[] | undefined;
  /** The pod whose IP is `ip`, if any (host-network pods are not indexed by IP). */
  podByIP(ip: string): Pod | undefined;
  /**
   * Every pod the platform knows that has not finished, from its cache. Optional until every platform has
   * it: tap needs it to select a deployment's, a namespace's or a pod's proxies (services work without it),
   * and the metrics API to count MESHED.
   */
  listPods?(): readonly Pod[];
  getServiceProfile(namespace: string, name: string): ServiceProfile | undefined;

  /**
   * Checks a service-account token. Resolves `authenticated: false` with a reason for a token the
   * platform rejects; rejects (throws) only when the review itself could not be done.
   */
  reviewToken(token: string): Promise<TokenReview>;

  /**
   * Calls `listener` after each change, once the change is visible to the reads above. Listeners must
   * not throw; they may read the platform. Returns an unsubscribe function.
   */
  watch(listener: PlatformListener): () => void;
}

/** The annotation that lists opaque ports, on pods, services and namespaces. */
export const OPAQUE_PORTS_ANNOTATION = 'config.fathom.io/opaque-ports';

/**
 * Parses an opaque-ports annotation value (`3306,6379`, ranges `4000-4010`, or container port names
 * resolved through `named`). Errors are values: a message naming the bad entry.
 */
export function parseOpaquePorts(value: string, named: (name: string) => number | undefined = () => undefined): Set<number> | string {
  const ports = new Set<number>();
  for (const raw of value.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const range = /^(\d{1,5})-(\d{1,5})$/.exec(part);
    if (range) {
      const lo = Number(range[1]);
      const hi = Number(range[2]);
      if (lo < 1 || hi > 65535 || lo > hi) return `opaque port range "${part}" is not within 1-65535 in order`;
      for (let p = lo; p <= hi; p++) ports.add(p);
    } else if (/^\d{1,5}$/.test(part)) {
      const port = Number(part);
      if (port < 1 || port > 65535) return `opaque port "${part}" is not within 1-65535`;
      ports.add(port);
    } else {
      const port = named(part);
      if (port === undefined) return `opaque port "${part}" is neither a number nor a named container port`;
      ports.add(port);
    }
  }
  return ports;
}
