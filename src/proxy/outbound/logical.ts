// Logical services (`<fqdn>:<port>`) as the outbound proxy balances over them: each one's Destination.Get
// watch feeds a Balancer of endpoints (P2C over peak-EWMA) whose picker the data path reads; updates swap
// the picker while requests in flight finish on the endpoints they hold. A service is shared by every
// connection that resolves to it and dropped a while after the last one is done with it.
import { Balancer } from '../balance/balancer.js';
import type { Endpoint, EndpointSnapshot } from '../discover/endpoints.js';
import type { Watch } from '../discover/watch.js';
import type { Mesh } from '../mesh.js';
import type { EndpointTarget } from '../target/endpoint.js';
import { discoveredEndpoint } from './endpoint.js';

/** How long a service nobody uses keeps its balancer (and its learned latencies) and its watch. */
export const LOGICAL_IDLE_MS = 10_000;

export class Logical {
  readonly balancer = new Balancer<EndpointTarget>((e) => e.addrKey);
  private readonly watch: Watch<EndpointSnapshot>;
  /** Targets by key, rebuilt only for endpoints whose discovery record changed. */
  private built = new Map<string, { source: Endpoint; target: EndpointTarget }>();
  /** The controller said there is no such service: its connections use their original destination. */
  notFound = false;
  users = 0;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly authority: string,
    mesh: Mesh,
  ) {
    this.watch = mesh.discovery.endpoints(authority, mesh.contextToken);
    this.watch.onChange((s) => this.apply(s));
    if (this.watch.current) this.apply(this.watch.current);
    else if (this.watch.unresolvable !== undefined) this.apply(undefined);
  }

  /** True once the controller has answered (endpoints, none, or no such service). */
  get answered(): boolean {
    return this.watch.current !== undefined || this.watch.unresolvable !== undefined;
  }

  /** Resolves at the first answer; rejects with EDISCOVERYTIMEOUT after `timeoutMs` without one. */
  ready(timeoutMs: number): Promise<unknown> {
    return this.watch.ready(timeoutMs);
  }

  close(): void {
    this.watch.release();
    this.balancer.close();
  }

  private apply(snapshot: EndpointSnapshot | undefined): void {
    this.notFound = snapshot === undefined || snapshot.exists === false;
    const next = new Map<string, { source: Endpoint; target: EndpointTarget }>();
    const targets: EndpointTarget[] = [];
    for (const source of snapshot?.endpoints.values() ?? []) {
      const known = this.built.get(source.key);
      const target = known && known.source === source ? known.target : discoveredEndpoint(source);
      next.set(source.key, { source, target });
      targets.push(target);
    }
    this.built = next;
    this.balancer.update(targets);
  }
}

/** The cache of logical services, by authority. */
export class LogicalServices {
  private readonly services = new Map<string, Logical>();

  constructor(private readonly mesh: Mesh) {}

  /** The service for `authority`, held until `release`. */
  acquire(authority: string): Logical {
    let logical = this.services.get(authority);
    if (!logical) {
      logical = new Logical(authority, this.mesh);
      this.services.set(authority, logical);
    }
    logical.users++;
    if (logical.idleTimer !== undefined) {
      clearTimeout(logical.idleTimer);
      logical.idleTimer = undefined;
    }
    return logical;
  }

  release(logical: Logical): void {
    if (--logical.users > 0) return;
    logical.idleTimer = setTimeout(() => {
      if (logical.users > 0 || this.services.get(logical.authority) !== logical) return;
      this.services.delete(logical.authority);
      logical.close();
    }, LOGICAL_IDLE_MS);
    logical.idleTimer.unref();
  }

  close(): void {
    for (const logical of this.services.values()) {
      clearTimeout(logical.idleTimer);
      logical.close();
    }
    this.services.clear();
  }
}
