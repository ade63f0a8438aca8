// The Destination gRPC service: turns each Get or GetProfile call into a subscription on the watchers
// and writes translated updates to the call's stream until the client goes away.
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { logger } from '../../lib/log.js';
import type { DestinationProfile, DestinationServer, GetDestination, Update } from '../../api/gen/fathom/destination.js';
import type { Platform } from '../../platform/platform.js';
import { addUpdate, noEndpointsUpdate, removeUpdate, serviceMetricLabels } from './endpoint-translator.js';
import { EndpointsWatcher, type EndpointsSource } from './endpoints-watcher.js';
import { watchProfile, type ProfileContext } from './profile-watcher.js';
import { contextNamespace, parseTarget } from './target.js';

const log = logger('destination');

type Stream<T> = ServerWritableStream<GetDestination, T>;

export class DestinationApi {
  private readonly endpoints: EndpointsWatcher;
  private readonly streams = new Set<Stream<unknown>>();

  constructor(
    private readonly platform: Platform,
    private readonly ctx: ProfileContext,
  ) {
    this.endpoints = new EndpointsWatcher(platform);
  }

  /** The grpc-js implementation of fathom.destination.Destination. */
  handlers(): DestinationServer {
    return { get: (call) => this.get(call), getProfile: (call) => this.getProfile(call) };
  }

  /** Ends every open stream (clients reconnect elsewhere or later) and stops watching. */
  close(): void {
    for (const call of this.streams) call.end();
    this.streams.clear();
    this.endpoints.close();
  }

  /** Open streams, for tests and metrics. */
  get openStreams(): number {
    return this.streams.size;
  }

  private get(call: Stream<Update>): void {
    const { path, contextToken } = call.request;
    const target = parseTarget(path, this.ctx.clusterDomain, contextNamespace(contextToken));
    if (typeof target === 'string') {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: target });
      return;
    }
    log.debug('Get', { path, peer: call.getPeer() });
    let source: EndpointsSource | undefined;
    let labels: Record<string, string> = {};
    if (target.kind === 'service') {
      source = target;
      labels = serviceMetricLabels(target.namespace, target.name);
    } else if (target.kind === 'ip') {
      const service = this.platform.serviceByClusterIP(target.ip);
      if (service) {
        source = { kind: 'service', namespace: service.namespace, name: service.name, port: target.port };
        labels = serviceMetricLabels(service.namespace, service.name);
      } else {
        source = { kind: 'pod', ip: target.ip, port: target.port };
        const pod = this.platform.podByIP(target.ip);
        if (pod) labels = serviceMetricLabels(pod.namespace, undefined);
      }
    }
    this.track(call, () => {
      if (!source) {
        call.write(noEndpointsUpdate(false)); // a name outside the cluster: nothing will ever be known
        return () => {};
      }
      return this.endpoints.subscribe(source, {
        add: (addresses) => call.write(addUpdate(addresses, labels, this.ctx)),
        remove: (addresses) => call.write(removeUpdate(addresses)),
        noEndpoints: (exists) => call.write(noEndpointsUpdate(exists)),
      });
    });
  }

  private getProfile(call: Stream<DestinationProfile>): void {
    const { path, contextToken } = call.request;
    const clientNamespace = contextNamespace(contextToken);
    const target = parseTarget(path, this.ctx.clusterDomain, clientNamespace);
    if (typeof target === 'string') {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: target });
      return;
    }
    log.debug('GetProfile', { path, peer: call.getPeer() });
    this.track(call, () => watchProfile(target, clientNamespace, this.platform, this.ctx, (profile) => call.write(profile)));
  }

  /** Runs `subscribe` for the life of `call`, unsubscribing once the client cancels or the call ends. */
  private track<T>(call: Stream<T>, subscribe: () => () => void): void {
    if (call.cancelled) return;
    this.streams.add(call as Stream<unknown>);
    // The first message goes out inside subscribe(): the stream's events can only come after it.
    const unsubscribe = subscribe();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.streams.delete(call as Stream<unknown>);
      unsubscribe();
    };
    call.on('cancelled', finish);
    call.on('close', finish);
    call.on('finish', finish);
    call.on('error', finish);
  }
}
