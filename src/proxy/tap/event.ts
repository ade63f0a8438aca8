// Builds the fathom.tap TapEvent messages a watcher receives: the part shared by a request's three events
// (peers, their metadata, direction), and the request-init, response-init and response-end events.
import { isIP } from 'node:net';
import type { Duration } from '../../api/gen/google/protobuf/duration.js';
import { HttpMethod_Registered, Scheme_Registered, type Headers, type HttpMethod, type Scheme } from '../../api/gen/fathom/http_types.js';
import { TapEvent_ProxyDirection, type TapEvent, type TapEvent_Http, type TapEvent_Http_StreamId } from '../../api/gen/fathom/tap.js';
import { tcpAddressToProto } from '../../api/net-addr.js';
import type { TapHeaders, TapPeer, TapRequest } from './request.js';

/** Everything of a TapEvent but its `event`: the same for a request's three events. */
export type EventBase = Omit<TapEvent, 'event'>;

export function eventBase(req: TapRequest): EventBase {
  return {
    source: tcpAddressToProto(plainIp(req.source), req.source.port),
    sourceMeta: { labels: { ...req.source.labels } },
    routeMeta: req.routeLabels === undefined ? undefined : { labels: { ...req.routeLabels } },
    destination: tcpAddressToProto(plainIp(req.destination), req.destination.port),
    destinationMeta: { labels: { ...req.destination.labels } },
    proxyDirection: req.direction === 'inbound' ? TapEvent_ProxyDirection.INBOUND : TapEvent_ProxyDirection.OUTBOUND,
  };
}

/** `::ffff:10.0.0.1` (a dual-stack socket's view of an IPv4 peer) is 10.0.0.1 to the tap. */
export function plainIp(peer: TapPeer): string {
  const ip = peer.ip;
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function http(base: EventBase, event: TapEvent_Http['event']): TapEvent {
  return { ...base, event: { $case: 'http', value: { event } } };
}

export function requestInitEvent(base: EventBase, id: TapEvent_Http_StreamId, req: TapRequest, withHeaders: boolean): TapEvent {
  return http(base, {
    $case: 'requestInit',
    value: {
      id,
      method: methodToProto(req.method),
      scheme: schemeToProto(req.scheme),
      authority: req.authority,
      path: req.path,
      headers: withHeaders && req.headers !== undefined ? headersToProto(req.headers) : undefined,
    },
  });
}

export function responseInitEvent(base: EventBase, id: TapEvent_Http_StreamId, sinceRequestMs: number, status: number, headers: Headers | undefined): TapEvent {
  return http(base, { $case: 'responseInit', value: { id, sinceRequestInit: durationFromMs(sinceRequestMs), httpStatus: status, headers } });
}

export interface ResponseEnd {
  readonly sinceRequestMs: number;
  /** Undefined when the stream ended before any response head. */
  readonly sinceResponseMs: number | undefined;
  readonly bytes: number;
  readonly grpcStatus: number | undefined;
  readonly resetErrorCode: number | undefined;
  readonly trailers: Headers | undefined;
}

export function responseEndEvent(base: EventBase, id: TapEvent_Http_StreamId, end: ResponseEnd): TapEvent {
  const eos =
    end.grpcStatus !== undefined
      ? { end: { $case: 'grpcStatusCode' as const, value: end.grpcStatus } }
      : end.resetErrorCode !== undefined
        ? { end: { $case: 'resetErrorCode' as const, value: end.resetErrorCode } }
        : undefined;
  return http(base, {
    $case: 'responseEnd',
    value: {
      id,
      sinceRequestInit: durationFromMs(end.sinceRequestMs),
      sinceResponseInit: end.sinceResponseMs === undefined ? undefined : durationFromMs(end.sinceResponseMs),
      responseBytes: BigInt(Math.max(0, Math.floor(end.bytes))),
      eos,
      trailers: end.trailers,
    },
  });
}

const REGISTERED_METHODS: ReadonlyMap<string, HttpMethod_Registered> = new Map(
  Object.entries(HttpMethod_Registered).filter((e): e is [string, HttpMethod_Registered] => typeof e[1] === 'number' && e[1] >= 0),
);

export function methodToProto(method: string): HttpMethod {
  const registered = REGISTERED_METHODS.get(method);
  return { type: registered === undefined ? { $case: 'unregistered', value: method } : { $case: 'registered', value: registered } };
}

export function schemeToProto(scheme: string): Scheme {
  const s = scheme.toLowerCase();
  if (s === 'http') return { type: { $case: 'registered', value: Scheme_Registered.HTTP } };
  if (s === 'https') return { type: { $case: 'registered', value: Scheme_Registered.HTTPS } };
  return { type: { $case: 'unregistered', value: scheme } };
}

/** Milliseconds (fractional, from performance.now()) as a protobuf Duration. */
export function durationFromMs(ms: number): Duration {
  const totalNanos = Math.max(0, Math.round(ms * 1e6));
  const seconds = Math.floor(totalNanos / 1e9);
  return { seconds: BigInt(seconds), nanos: totalNanos - seconds * 1e9 };
}

export function headersToProto(headers: TapHeaders): Headers {
  const out: Headers['headers'] = [];
  if (isRaw(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) out.push({ name: headers[i]!.toLowerCase(), value: Buffer.from(headers[i + 1]!, 'latin1') });
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      // node:http2 gives `:status` as a number whatever its types say.
      const values: readonly unknown[] = Array.isArray(value) ? value : [value];
      for (const v of values) out.push({ name, value: Buffer.from(String(v), 'latin1') });
    }
  }
  return { headers: out };
}

function isRaw(headers: TapHeaders): headers is readonly string[] {
  return Array.isArray(headers);
}
