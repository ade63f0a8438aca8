// Turns a proxy's TapEvent into the tap API's JSON event: addresses as text, durations in microseconds,
// and each side's labels completed from the platform (the tapped pod for its own side, the pod owning the
// peer's IP for the other), so that `-o wide` and `top` can name workloads as Linkerd's tap does.
import type { Duration } from '../../api/gen/google/protobuf/duration.js';
import { TapEvent_ProxyDirection, type TapEvent } from '../../api/gen/fathom/tap.js';
import { tcpAddressToString } from '../../api/net-addr.js';
import type { Platform, Pod } from '../../platform/platform.js';
import type { TapEventJson, TapLabelsJson } from './types.js';

export interface TranslateContext {
  readonly platform: Pick<Platform, 'podByIP'>;
  /** The pod whose proxy sent the event. */
  readonly pod: Pod;
}

const methodNames: Record<number, string> = { 0: 'GET', 1: 'POST', 2: 'PUT', 3: 'DELETE', 4: 'PATCH', 5: 'OPTIONS', 6: 'CONNECT', 7: 'HEAD', 8: 'TRACE' };

/** The JSON event, or undefined for an event without an HTTP part (none are sent today). */
export function translateEvent(event: TapEvent, ctx: TranslateContext): TapEventJson | undefined {
  const http = event.event?.$case === 'http' ? event.event.value.event : undefined;
  if (!http) return undefined;
  const inbound = event.proxyDirection === TapEvent_ProxyDirection.INBOUND;
  const source = tcpAddressToString(event.source) ?? '';
  const destination = tcpAddressToString(event.destination) ?? '';
  const own = podLabels(ctx.pod);
  // The proxy's labels win: they say what it saw (tls, client_id, server_id...).
  const sourceLabels = { ...(inbound ? peerLabels(source, ctx) : own), ...event.sourceMeta?.labels };
  const destinationLabels = { ...(inbound ? own : peerLabels(destination, ctx)), ...event.destinationMeta?.labels };
  const common = {
    id: `${http.value.id?.base ?? 0}:${http.value.id?.stream ?? 0}`,
    direction: inbound ? ('inbound' as const) : ('outbound' as const),
    source,
    destination,
    // Linkerd's rule: an inbound request's TLS is what the proxy saw of its client; outbound, of its server.
    tls: (inbound ? event.sourceMeta?.labels.tls : event.destinationMeta?.labels.tls) ?? '',
    source_labels: sourceLabels,
    destination_labels: destinationLabels,
    route_labels: { ...event.routeMeta?.labels },
    proxy_pod: `${ctx.pod.namespace}/${ctx.pod.name}`,
  };
  switch (http.$case) {
    case 'requestInit': {
      const m = http.value.method?.type;
      const s = http.value.scheme?.type;
      return {
        type: 'req',
        ...common,
        method: m === undefined ? '' : m.$case === 'registered' ? (methodNames[m.value] ?? '') : m.value,
        scheme: s === undefined ? '' : s.$case === 'registered' ? (s.value === 1 ? 'https' : 'http') : s.value,
        authority: http.value.authority,
        path: http.value.path,
      };
    }
    case 'responseInit':
      return { type: 'rsp', ...common, status: http.value.httpStatus, latency_us: micros(http.value.sinceRequestInit) };
    case 'responseEnd': {
      const end = http.value.eos?.end;
      return {
        type: 'end',
        ...common,
        grpc_status: end?.$case === 'grpcStatusCode' ? end.value : null,
        reset_error: end?.$case === 'resetErrorCode' ? end.value : null,
        duration_us: micros(http.value.sinceResponseInit),
        since_request_us: micros(http.value.sinceRequestInit),
        response_bytes: Number(http.value.responseBytes),
      };
    }
  }
}

/** A pod's workload labels as the destination service names them: namespace, pod, owner (`deployment: web`), service account. */
export function podLabels(pod: Pod): TapLabelsJson {
  const labels: Record<string, string> = { namespace: pod.namespace, pod: pod.name, serviceaccount: pod.serviceAccount };
  if (pod.owner) labels[pod.owner.kind.toLowerCase()] = pod.owner.name;
  return labels;
}

function peerLabels(addr: string, ctx: TranslateContext): TapLabelsJson {
  const ip = addr.startsWith('[') ? addr.slice(1, addr.indexOf(']')) : addr.slice(0, addr.lastIndexOf(':'));
  const pod = ip === '' ? undefined : ctx.platform.podByIP(ip);
  return pod ? podLabels(pod) : {};
}

function micros(d: Duration | undefined): number {
  return d === undefined ? 0 : Number(d.seconds) * 1_000_000 + Math.round(d.nanos / 1000);
}
