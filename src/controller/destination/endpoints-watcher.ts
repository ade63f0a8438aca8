// Watches the platform for the endpoints of one destination (a service port, or a pod IP) and tells
// each subscriber the full state at once, then only what changed. One topic per destination is shared
// by all subscribers and dropped when the last one leaves.
import { logger } from '../../lib/log.js';
import type { Platform, PlatformEvent } from '../../platform/platform.js';
import type { Address } from './endpoint-translator.js';

const log = logger('destination');

/** Receives a destination's endpoints: the whole state first, then diffs, in the Update stream's terms. */
export interface EndpointsListener {
  add(addresses: readonly Address[]): void;
  remove(addresses: readonly Address[]): void;
  /** No endpoints; `exists` tells whether the destination itself exists. */
  noEndpoints(exists: boolean): void;
}

export type EndpointsSource =
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly port: number }
  | { readonly kind: 'pod'; readonly ip: string; readonly port: number };

interface Entry {
  readonly address: Address;
  readonly fingerprint: string;
}

/** What a topic last saw: undefined when the destination does not exist. */
type State = Map<string, Entry> | undefined;

const fingerprint = (a: Address) => JSON.stringify(a, (_k, v: unknown) => (v instanceof Set ? [...v].sort() : v));

class Topic {
  readonly listeners = new Set<EndpointsListener>();
  state: State;

  constructor(
    readonly source: EndpointsSource,
    private readonly platform: Platform,
  ) {
    this.state = this.compute();
  }

  /** Whether `event` may change this topic's endpoints. */
  concerns(event: PlatformEvent): boolean {
    if (this.source.kind === 'pod') return event.kind === 'pod' && event.ips.includes(this.source.ip);
    return (event.kind === 'endpoints' || event.kind === 'service') && event.namespace === this.source.namespace && event.name === this.source.name;
  }

  /** Reads the current endpoints from the platform: ready addresses only, keyed by `ip:port`. */
  compute(): State {
    const addresses = this.read();
    if (addresses === undefined) return undefined;
    return new Map(addresses.map((address) => [`${address.ip}:${address.port}`, { address, fingerprint: fingerprint(address) }]));
  }

  private read(): Address[] | undefined {
    const src = this.source;
    if (src.kind === 'pod') {
      const pod = this.platform.podByIP(src.ip);
      return pod ? [{ ip: src.ip, port: src.port, pod }] : undefined;
    }
    const service = this.platform.getService(src.namespace, src.name);
    const endpoints = this.platform.getEndpoints(src.namespace, src.name);
    if (!service || !endpoints) return undefined;
    const ready = endpoints.filter((e) => e.ready);
    if (service.ports.some((p) => p.port === src.port)) {
      return ready.filter((e) => e.servicePort === src.port).map((e) => ({ ip: e.ip, port: e.port, pod: e.pod }));
    }
    // A port the Service does not declare: like Linkerd, send it to the same port on every endpoint.
    const byIp = new Map(ready.map((e) => [e.ip, { ip: e.ip, port: src.port, pod: e.pod }]));
    return [...byIp.values()];
  }

  /** Tells one listener the whole current state. */
  replay(listener: EndpointsListener): void {
    if (this.state === undefined) listener.noEndpoints(false);
    else if (this.state.size === 0) listener.noEndpoints(true);
    else listener.add([...this.state.values()].map((e) => e.address));
  }

  /** Re-reads the platform and tells every listener what changed. */
  refresh(): void {
    const before = this.state;
    const after = this.compute();
    this.state = after;
    const emit = (fn: (l: EndpointsListener) => void) => {
      for (const listener of [...this.listeners]) {
        try {
          fn(listener);
        } catch (err) {
          log.warn('endpoints listener failed', { error: err as Error });
        }
      }
    };
    if (after === undefined) {
      if (before !== undefined) emit((l) => l.noEndpoints(false));
      return;
    }
    if (after.size === 0) {
      if (before === undefined || before.size > 0) emit((l) => l.noEndpoints(true));
      return;
    }
    // Adds (new addresses, or ones whose metadata changed) go before removes, so that a client never
    // sees an empty set while endpoints are being replaced.
    const added: Address[] = [];
    for (const [key, entry] of after) if (before?.get(key)?.fingerprint !== entry.fingerprint) added.push(entry.address);
    const removed: Address[] = [];
    for (const [key, entry] of before ?? []) if (!after.has(key)) removed.push(entry.address);
    if (added.length > 0) emit((l) => l.add(added));
    if (removed.length > 0) emit((l) => l.remove(removed));
  }
}

export class EndpointsWatcher {
  private readonly topics = new Map<string, Topic>();
  private readonly unwatch: () => void;

  constructor(private readonly platform: Platform) {
    this.unwatch = platform.watch((event) => {
      for (const topic of this.topics.values()) if (topic.concerns(event)) topic.refresh();
    });
  }

  /** Subscribes `listener` to `source`; it hears the current state before this returns. Returns the unsubscribe. */
  subscribe(source: EndpointsSource, listener: EndpointsListener): () => void {
    const key = source.kind === 'pod' ? `pod ${source.ip}:${source.port}` : `svc ${source.namespace}/${source.name}:${source.port}`;
    let topic = this.topics.get(key);
    if (!topic) {
      topic = new Topic(source, this.platform);
      this.topics.set(key, topic);
    }
    topic.listeners.add(listener);
    topic.replay(listener);
    return () => {
      const t = this.topics.get(key);
      if (!t) return;
      t.listeners.delete(listener);
      if (t.listeners.size === 0) this.topics.delete(key);
    };
  }

  /** How many destinations are watched (for metrics and tests). */
  get size(): number {
    return this.topics.size;
  }

  close(): void {
    this.unwatch();
    this.topics.clear();
  }
}
