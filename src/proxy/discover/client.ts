// The proxy's destination client: one TLS channel to the controller, and a cache of profile and endpoint
// streams, one per (target, context) shared by all its users and closed after an idle time (model §1.4).
import { DestinationClient, type DestinationProfile, type Update } from '../../api/gen/fathom/destination.js';
import { FathomError } from '../../lib/errors.js';
import { logger, type Logger } from '../../lib/log.js';
import { realTimers, type BackoffOptions, type Timers } from '../control/backoff.js';
import { controllerChannel, type ControllerEndpoint } from '../control/controller-channel.js';
import { applyUpdate, type EndpointSnapshot } from './endpoints.js';
import { toProfileSnapshot, type ProfileSnapshot } from './profile.js';
import { SharedStream, type StreamSource, type Watch } from './watch.js';

/** Linkerd's outbound discovery cache idle time (env.rs), the Kubernetes DNS TTL. */
export const DEFAULT_DISCOVERY_IDLE_MS = 5_000;
/** Linkerd's outbound failfast: how long a new lookup may wait for the controller's first answer. */
export const DEFAULT_DISCOVERY_FAILFAST_MS = 3_000;

export interface DiscoveryOptions {
  controller: ControllerEndpoint;
  /** How long a stream nobody uses stays open (default 5 s; Linkerd's inbound uses 90 s). */
  idleMs?: number;
  /** Default timeout of `Watch.ready()` (default 3 s). */
  failfastMs?: number;
  /** Reconnection backoff (default 100 ms doubling to 10 s, with jitter). */
  backoff?: BackoffOptions;
  timers?: Timers;
  log?: Logger;
}

export class DiscoveryClient {
  private readonly client: DestinationClient;
  private readonly streams = new Map<string, SharedStream<unknown, unknown>>();
  private readonly timers: Timers;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly options: DiscoveryOptions) {
    const channel = controllerChannel(options.controller);
    this.client = new DestinationClient(channel.target, channel.credentials, channel.options);
    this.timers = options.timers ?? realTimers;
    this.log = options.log ?? logger('discover');
  }

  /**
   * The profile of a destination address, `host:port` (an original destination `ip:port`, or a name).
   * `contextToken` is the proxy's JSON context, e.g. `{"ns":"nodevoto"}`.
   */
  profile(target: string, contextToken = ''): Watch<ProfileSnapshot> {
    return this.watch<DestinationProfile, ProfileSnapshot>(`profile\0${target}\0${contextToken}`, {
      description: `GetProfile ${target}`,
      open: () => this.client.getProfile({ scheme: '', path: target, contextToken }),
      // Each profile message is complete: it always replaces the previous one.
      reduce: (_previous, message) => toProfileSnapshot(message),
    });
  }

  /** The endpoints of a logical service, `authority` = `<fqdn>:<port>` (from the profile's name). */
  endpoints(authority: string, contextToken = ''): Watch<EndpointSnapshot> {
    return this.watch<Update, EndpointSnapshot>(`endpoints\0${authority}\0${contextToken}`, {
      description: `Get ${authority}`,
      open: () => this.client.get({ scheme: '', path: authority, contextToken }),
      reduce: applyUpdate,
    });
  }

  /** Streams cached (in use, or idle and not yet closed). */
  get cachedStreams(): number {
    return this.streams.size;
  }

  /** Closes every stream and the channel; pending `ready()` calls reject with EDISCOVERYCLOSED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    this.client.close();
  }

  private watch<M, T>(key: string, source: StreamSource<M, T>): Watch<T> {
    if (this.closed) throw new FathomError('EDISCOVERYCLOSED', 'the discovery client is closed');
    let stream = this.streams.get(key) as SharedStream<M, T> | undefined;
    if (!stream) {
      const created: SharedStream<M, T> = new SharedStream<M, T>(source, {
        timers: this.timers,
        backoff: this.options.backoff,
        idleMs: this.options.idleMs ?? DEFAULT_DISCOVERY_IDLE_MS,
        failfastMs: this.options.failfastMs ?? DEFAULT_DISCOVERY_FAILFAST_MS,
        log: this.log,
        onIdle: () => {
          if (this.streams.get(key) === (created as SharedStream<unknown, unknown>)) this.streams.delete(key);
        },
      });
      stream = created;
      this.streams.set(key, stream as SharedStream<unknown, unknown>);
    }
    return stream.acquire();
  }
}
