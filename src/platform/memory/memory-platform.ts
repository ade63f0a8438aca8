// An in-memory Platform that tests drive directly (add and remove pods, services and profiles) and that
// fires the same events a real platform would, computed by comparing state before and after each change.
import type { Endpoint, Platform, PlatformEvent, PlatformListener, Pod, Service, ServiceProfile, TokenReview } from '../platform.js';
import {
  computeEndpoints,
  toPod,
  toProfile,
  toService,
  type MemoryState,
  type PodInput,
  type ProfileInput,
  type ServiceInput,
} from './state.js';

const key = (namespace: string, name: string) => `${namespace}/${name}`;

interface Snapshot {
  services: Map<string, string>;
  endpoints: Map<string, string>;
  pods: Map<string, { json: string; ip: string | undefined }>;
  profiles: Map<string, string>;
}

export class MemoryPlatform implements Platform {
  readonly kind = 'memory';
  private services = new Map<string, Service>();
  private pods = new Map<string, Pod>();
  private profiles = new Map<string, ServiceProfile>();
  private tokens = new Map<string, { namespace: string; serviceAccount: string }>();
  private endpoints = new Map<string, Endpoint[]>();
  private listeners = new Set<PlatformListener>();
  private closed = false;
  /** When set, reviewToken rejects with this error (a platform outage). */
  tokenReviewError: Error | undefined;

  constructor(initial: MemoryState = {}) {
    this.load(initial);
    this.recomputeEndpoints();
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  getService(namespace: string, name: string): Service | undefined {
    return this.services.get(key(namespace, name));
  }

  serviceByClusterIP(ip: string): Service | undefined {
    for (const svc of this.services.values()) if (svc.clusterIP === ip) return svc;
    return undefined;
  }

  getEndpoints(namespace: string, name: string): readonly Endpoint[] | undefined {
    if (!this.services.has(key(namespace, name))) return undefined;
    return this.endpoints.get(key(namespace, name)) ?? [];
  }

  listPods(): readonly Pod[] {
    return [...this.pods.values()];
  }

  podByIP(ip: string): Pod | undefined {
    for (const pod of this.pods.values()) if (pod.ip === ip) return pod;
    return undefined;
  }

  getServiceProfile(namespace: string, name: string): ServiceProfile | undefined {
    return this.profiles.get(key(namespace, name));
  }

  async reviewToken(token: string): Promise<TokenReview> {
    if (this.tokenReviewError) throw this.tokenReviewError;
    const sa = this.tokens.get(token.trim());
    if (!sa) return { authenticated: false, reason: 'the token is not known to the platform' };
    return { authenticated: true, namespace: sa.namespace, serviceAccount: sa.serviceAccount };
  }

  watch(listener: PlatformListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- changes, as tests make them --------------------------------------------------------------

  applyService(input: ServiceInput): void {
    this.change(() => this.services.set(key(input.namespace, input.name), toService(input)));
  }

  deleteService(namespace: string, name: string): void {
    this.change(() => this.services.delete(key(namespace, name)));
  }

  applyPod(input: PodInput): void {
    this.change(() => this.pods.set(key(input.namespace, input.name), toPod(input)));
  }

  /** Changes some fields of an existing pod (readiness, labels, ...). */
  updatePod(namespace: string, name: string, patch: Partial<PodInput>): void {
    const pod = this.pods.get(key(namespace, name));
    if (!pod) throw new Error(`no pod ${namespace}/${name}`);
    const current: PodInput = {
      ...pod,
      ip: pod.ip,
      owner: pod.owner,
      labels: { ...pod.labels },
      annotations: { ...pod.annotations },
      containerPorts: pod.containerPorts.map((p) => ({ ...p, name: p.name })),
      proxyInboundPort: pod.proxyInboundPort,
    };
    this.applyPod({ ...current, ...patch, namespace, name });
  }

  deletePod(namespace: string, name: string): void {
    this.change(() => this.pods.delete(key(namespace, name)));
  }

  applyProfile(input: ProfileInput): void {
    this.change(() => this.profiles.set(key(input.namespace, input.name), toProfile(input)));
  }

  deleteProfile(namespace: string, name: string): void {
    this.change(() => this.profiles.delete(key(namespace, name)));
  }

  setToken(token: string, serviceAccount: { namespace: string; serviceAccount: string }): void {
    this.tokens.set(token, { ...serviceAccount });
  }

  /** Replaces the whole state (a reloaded state file), firing events for whatever differs. */
  replace(state: MemoryState): void {
    this.change(() => {
      this.services.clear();
      this.pods.clear();
      this.profiles.clear();
      this.tokens.clear();
      this.load(state);
    });
  }

  private load(state: MemoryState): void {
    for (const s of state.services ?? []) this.services.set(key(s.namespace, s.name), toService(s));
    for (const p of state.pods ?? []) this.pods.set(key(p.namespace, p.name), toPod(p));
    for (const p of state.profiles ?? []) this.profiles.set(key(p.namespace, p.name), toProfile(p));
    for (const [token, sa] of Object.entries(state.tokens ?? {})) this.tokens.set(token, { ...sa });
  }

  private recomputeEndpoints(): void {
    this.endpoints.clear();
    for (const [k, svc] of this.services) this.endpoints.set(k, computeEndpoints(svc, this.pods.values()));
  }

  private snapshot(): Snapshot {
    const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x instanceof Set ? [...x] : x));
    return {
      services: new Map([...this.services].map(([k, v]) => [k, json(v)])),
      endpoints: new Map([...this.endpoints].map(([k, v]) => [k, json(v)])),
      pods: new Map([...this.pods].map(([k, v]) => [k, { json: json(v), ip: v.ip }])),
      profiles: new Map([...this.profiles].map(([k, v]) => [k, json(v)])),
    };
  }

  /** Applies `mutate`, then fires one event per object that differs, once all reads see the new state. */
  private change(mutate: () => void): void {
    const before = this.snapshot();
    mutate();
    this.recomputeEndpoints();
    const after = this.snapshot();
    const events: PlatformEvent[] = [];
    const split = (k: string) => {
      const at = k.indexOf('/');
      return { namespace: k.slice(0, at), name: k.slice(at + 1) };
    };
    const diff = (a: Map<string, string>, b: Map<string, string>, kind: 'service' | 'endpoints' | 'profile') => {
      for (const k of new Set([...a.keys(), ...b.keys()])) if (a.get(k) !== b.get(k)) events.push({ kind, ...split(k) });
    };
    diff(before.services, after.services, 'service');
    diff(before.endpoints, after.endpoints, 'endpoints');
    for (const k of new Set([...before.pods.keys(), ...after.pods.keys()])) {
      const a = before.pods.get(k);
      const b = after.pods.get(k);
      if (a?.json === b?.json) continue;
      const ips = [...new Set([a?.ip, b?.ip].filter((ip): ip is string => ip !== undefined))];
      events.push({ kind: 'pod', ...split(k), ips });
    }
    diff(before.profiles, after.profiles, 'profile');
    if (this.closed) return;
    for (const event of events) for (const listener of [...this.listeners]) listener(event);
  }
}
