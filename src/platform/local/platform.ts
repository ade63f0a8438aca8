// The local platform as the controller sees it: a Platform that reads an instance's state directory
// (applied objects, pods and their status, tokens) into an in-memory cache and turns every change into
// Platform events within a second: directory watches trigger a reload at once, and a rescan every second
// catches anything a watch missed. Events come from comparing cache states (MemoryPlatform.replace).
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import { logger } from '../../lib/log.js';
import { PROXY_PORTS } from '../../lib/mesh-names.js';
import { MemoryPlatform } from '../memory/memory-platform.js';
import type { MemoryState, PodInput, ServiceInput } from '../memory/state.js';
import {
  OPAQUE_PORTS_ANNOTATION,
  parseOpaquePorts,
  type Endpoint,
  type Platform,
  type PlatformListener,
  type Pod,
  type Service,
  type ServiceProfile,
  type TokenReview,
} from '../platform.js';
import { layout } from './layout.js';
import { loadSnapshot, type Snapshot } from './snapshot.js';
import { lookupToken, readTokens } from './tokens.js';

const log = logger('platform-local');
const RESCAN_MS = 1000;

/** Bad annotations already logged, so that the rescan every second does not repeat the warning. */
const warned = new Set<string>();

/** Drops an opaque-ports annotation that does not parse (logged once), so one bad object spoils nothing else. */
function withValidOpaquePorts(annotations: Record<string, string>, named: (name: string) => number | undefined, what: string): Record<string, string> {
  const value = annotations[OPAQUE_PORTS_ANNOTATION];
  if (value === undefined || typeof parseOpaquePorts(value, named) !== 'string') return annotations;
  if (!warned.has(`${what}=${value}`)) log.warn('ignoring an invalid opaque-ports annotation', { object: what, value });
  warned.add(`${what}=${value}`);
  const { [OPAQUE_PORTS_ANNOTATION]: _dropped, ...rest } = annotations;
  return rest;
}

/** The cache's content for a snapshot of the state directory. */
export function memoryStateOf(snap: Snapshot): MemoryState {
  const services: ServiceInput[] = snap.services.map((s) => ({
    namespace: s.metadata.namespace ?? 'default',
    name: s.metadata.name,
    clusterIP: s.spec.clusterIP === 'None' ? undefined : s.spec.clusterIP,
    ports: s.spec.ports.map((p) => ({ name: p.name ?? '', port: p.port, targetPort: p.targetPort, protocol: p.protocol })),
    ...(s.spec.selector ? { selector: s.spec.selector } : {}),
    annotations: withValidOpaquePorts(s.metadata.annotations, () => undefined, `service ${s.metadata.namespace}/${s.metadata.name}`),
  }));
  const pods: PodInput[] = snap.pods.map(({ record, ready }) => {
    const containerPorts = record.containers.flatMap((c) => c.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: p.protocol }));
    const named = (name: string) => containerPorts.find((p) => p.name === name)?.containerPort;
    return {
      namespace: record.namespace,
      name: record.name,
      ip: record.ip,
      node: 'local',
      labels: record.labels,
      annotations: withValidOpaquePorts(record.annotations, named, `pod ${record.namespace}/${record.name}`),
      owner: { kind: record.owner.kind, name: record.owner.name },
      serviceAccount: record.serviceAccount,
      ready,
      meshed: record.meshed,
      ...(record.meshed ? { proxyInboundPort: PROXY_PORTS.inbound } : {}),
      containerPorts,
    };
  });
  const profiles = snap.profiles.map((p) => ({ namespace: p.metadata.namespace ?? 'default', name: p.metadata.name, spec: p.spec }));
  return { services, pods, profiles };
}

export class LocalPlatform implements Platform {
  readonly kind = 'local';
  private readonly cache = new MemoryPlatform();
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly stateDir: string) {}

  async start(): Promise<void> {
    const l = layout(this.stateDir);
    for (const dir of [l.objects, l.pods, l.status]) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      this.watchers.push(watch(dir, () => this.soon()));
    }
    this.reload();
    this.schedule(RESCAN_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    await this.cache.close();
  }

  getService(namespace: string, name: string): Service | undefined {
    return this.cache.getService(namespace, name);
  }

  serviceByClusterIP(ip: string): Service | undefined {
    return this.cache.serviceByClusterIP(ip);
  }

  getEndpoints(namespace: string, name: string): readonly Endpoint[] | undefined {
    return this.cache.getEndpoints(namespace, name);
  }

  podByIP(ip: string): Pod | undefined {
    return this.cache.podByIP(ip);
  }

  listPods(): readonly Pod[] {
    return this.cache.listPods();
  }

  getServiceProfile(namespace: string, name: string): ServiceProfile | undefined {
    return this.cache.getServiceProfile(namespace, name);
  }

  /** Tokens are read from disk at each review: a pod's proxy may ask before the next rescan. */
  async reviewToken(token: string): Promise<TokenReview> {
    const owner = lookupToken(readTokens(this.stateDir), token);
    if (!owner) return { authenticated: false, reason: 'the token is not a service-account token of this local platform' };
    return { authenticated: true, namespace: owner.namespace, serviceAccount: owner.serviceAccount };
  }

  watch(listener: PlatformListener): () => void {
    return this.cache.watch(listener);
  }

  private soon(): void {
    this.schedule(20);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reload();
      this.schedule(RESCAN_MS);
    }, ms);
  }

  private reload(): void {
    try {
      this.cache.replace(memoryStateOf(loadSnapshot(this.stateDir)));
    } catch (err) {
      log.warn('state not reloaded', { stateDir: this.stateDir, error: err as Error });
    }
  }
}
