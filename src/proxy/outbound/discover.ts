// The discovery stage of an outbound connection whose original destination is in the discovery networks:
// its GetProfile answer decides where its requests go — the original destination (unknown to the
// controller), the one pod the profile names, or the balancer of its logical service — and whether the
// connection is opaque. Lookups start at accept, in parallel with protocol detection; requests wait for
// the first answer up to the failfast timeout; a later answer switches the target of later requests.
import { performance } from 'node:perf_hooks';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';
import { FathomError } from '../../lib/errors.js';
import type { Handle, Pick } from '../balance/picker.js';
import type { ProfileSnapshot } from '../discover/profile.js';
import type { Watch } from '../discover/watch.js';
import type { Mesh } from '../mesh.js';
import type { HttpSeries, ProxyMetrics } from '../metrics/registry.js';
import type { EndpointTarget } from '../target/endpoint.js';
import { FailureSeries, FixedSelector, type Claim, type Selected, type Selector } from '../target/selector.js';
import { discoveredEndpoint, forwardEndpoint } from './endpoint.js';
import type { Logical, LogicalServices } from './logical.js';

/** Where requests go, as the latest profile says. */
type Backend = { kind: 'fixed'; selector: FixedSelector } | { kind: 'logical'; logical: Logical };

export interface DiscoveryContext {
  readonly mesh: Mesh;
  readonly services: LogicalServices;
  /** Ports the proxy's own configuration marks opaque. */
  readonly opaquePorts: ReadonlySet<number>;
}

export class DiscoveredSelector implements Selector {
  private readonly watch: Watch<ProfileSnapshot>;
  private backend: Backend | undefined;
  private forward: FixedSelector | undefined;
  private opaque: boolean;
  private released = false;
  private readonly failures: FailureSeries;
  /** Until the first answer, requests wait until this time (accept + failfast); later, they fail fast. */
  private readonly deadline: number;

  constructor(
    private readonly dst: SocketAddr,
    private readonly ctx: DiscoveryContext,
  ) {
    const target = formatSocketAddr(dst.host, dst.port);
    this.opaque = ctx.opaquePorts.has(dst.port);
    this.deadline = performance.now() + ctx.mesh.failfastMs;
    this.failures = new FailureSeries({ direction: 'outbound', target_addr: target });
    this.watch = ctx.mesh.discovery.profile(target, ctx.mesh.contextToken);
    this.watch.onChange((profile) => this.onProfile(profile));
    if (this.watch.current) this.onProfile(this.watch.current);
    else if (this.watch.unresolvable !== undefined) this.onProfile(undefined);
  }

  /** Calls `done(opaque)` once the destination is known, or when the failfast timeout passed without an answer. */
  whenKnown(done: (opaque: boolean) => void): void {
    if (this.backend) {
      done(this.opaque);
      return;
    }
    // Listeners run before ready() settles, so the backend is set by then whatever the outcome.
    this.watch.ready(this.waitMs()).then(
      () => done(this.opaque),
      () => done(this.opaque),
    );
  }

  select(done: Selected): void {
    if (this.backend) {
      this.selectFrom(this.backend, done);
      return;
    }
    this.watch.ready(this.waitMs()).then(
      () => (this.backend ? this.selectFrom(this.backend, done) : done(noAnswer(this.dst))),
      (err: FathomError) => (this.backend ? this.selectFrom(this.backend, done) : done(err.code === 'EDISCOVERYTIMEOUT' ? err : noAnswer(this.dst, err))),
    );
  }

  private waitMs(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  failureSeries(metrics: ProxyMetrics, authority: string): HttpSeries {
    return this.failures.get(metrics, authority);
  }

  /** The connection ended: its lookups may close (after their idle time). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.watch.release();
    if (this.backend?.kind === 'logical') this.ctx.services.release(this.backend.logical);
  }

  private onProfile(profile: ProfileSnapshot | undefined): void {
    if (this.released) return;
    this.opaque = this.ctx.opaquePorts.has(this.dst.port) || profile?.opaqueProtocol === true;
    const previous = this.backend;
    if (profile?.fullyQualifiedName) {
      const authority = `${profile.fullyQualifiedName}:${this.dst.port}`;
      if (previous?.kind === 'logical' && previous.logical.authority === authority) return;
      this.backend = { kind: 'logical', logical: this.ctx.services.acquire(authority) };
    } else if (profile?.endpoint) {
      // A pod addressed by its IP: that one endpoint, no balancing.
      this.backend = { kind: 'fixed', selector: new FixedSelector(discoveredEndpoint(profile.endpoint)) };
    } else {
      // Unknown to the controller (or refused as unresolvable): the original destination, in clear.
      this.backend = { kind: 'fixed', selector: this.forwardSelector() };
    }
    if (previous?.kind === 'logical') this.ctx.services.release(previous.logical);
  }

  private forwardSelector(): FixedSelector {
    return (this.forward ??= new FixedSelector(forwardEndpoint(this.dst, true)));
  }

  private selectFrom(backend: Backend, done: Selected): void {
    if (backend.kind === 'fixed') {
      this.ready(backend.selector.endpoint, undefined, done);
      return;
    }
    const { logical } = backend;
    if (logical.notFound) {
      this.forwardSelector().select(done);
      return;
    }
    const pick = logical.balancer.picker.pick();
    if (pick) {
      this.claim(pick, done);
      return;
    }
    const failfastMs = this.ctx.mesh.failfastMs;
    if (!logical.answered) {
      logical.ready(failfastMs).then(
        () => this.selectFrom(backend, done),
        (err: FathomError) => (logical.answered ? this.selectFrom(backend, done) : done(err.code === 'EDISCOVERYTIMEOUT' ? err : noAnswer(this.dst, err))),
      );
      return;
    }
    // A service with no endpoints: wait for one to appear, up to the failfast timeout, then 503.
    void logical.balancer.waitForEndpoints(failfastMs).then((picker) => {
      const next = picker?.pick();
      if (next) this.claim(next, done);
      else if (logical.notFound) this.forwardSelector().select(done);
      else done(new FathomError('ENOENDPOINTS', `${logical.authority} has no endpoints (waited ${failfastMs} ms)`));
    });
  }

  private claim(pick: Pick<EndpointTarget>, done: Selected): void {
    this.ready(pick.endpoint, new BalancerClaim(pick, pick.start()), done);
  }

  /** mTLS needs our certificate: before the controller certified us, wait for it up to the failfast timeout. */
  private ready(endpoint: EndpointTarget, claim: Claim | undefined, done: Selected): void {
    const store = this.ctx.mesh.store;
    if (endpoint.tls === undefined || store.ready) {
      done(undefined, endpoint, claim);
      return;
    }
    store.whenReady(this.ctx.mesh.failfastMs, (ready) => {
      if (ready) done(undefined, endpoint, claim);
      else {
        claim?.cancel();
        done(new FathomError('EIDENTITYNOTREADY', `no certificate for ${store.identity} yet: cannot open mTLS to ${endpoint.addrKey}`));
      }
    });
  }
}

/** The balancer's pick, as the data path's claim. */
class BalancerClaim implements Claim {
  constructor(
    private readonly pick: Pick<EndpointTarget>,
    private readonly handle: Handle,
  ) {}

  done(): void {
    this.handle.done();
  }

  cancel(): void {
    this.handle.cancel();
  }

  markUnavailable(): void {
    this.pick.markUnavailable();
  }
}

function noAnswer(dst: SocketAddr, cause?: unknown): FathomError {
  return new FathomError('EDISCOVERYTIMEOUT', `no answer from the control plane for ${formatSocketAddr(dst.host, dst.port)}`, { cause });
}
