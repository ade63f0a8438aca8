// The proxy's configuration, parsed once at start-up from FATHOM_PROXY_* environment variables into a
// typed object. Nothing else in the proxy reads process.env. Documented in docs/proxy-config.md.
import { parsePortList, parseSocketAddr, type SocketAddr } from '../lib/addr.js';
import { isLogLevel, type LogLevel } from '../lib/log.js';
import { isIP } from 'node:net';

export interface ProxyConfig {
  readonly inboundAddr: SocketAddr;
  readonly outboundAddr: SocketAddr;
  readonly adminAddr: SocketAddr;
  /** The Tap server (mTLS, the controller's identity only); served only with a control plane. */
  readonly tapAddr: SocketAddr;
  /** The control plane (destination + identity); absent means standalone mode. */
  readonly controllerAddr: SocketAddr | undefined;
  readonly logLevel: LogLevel;
  /** Ports whose traffic is opaque TCP: no protocol detection (server-speaks-first protocols). */
  readonly opaquePorts: ReadonlySet<number>;
  /** How long detection waits for a client's first bytes before treating the connection as TCP. */
  readonly detectTimeoutMs: number;
  readonly inboundConnectTimeoutMs: number;
  readonly outboundConnectTimeoutMs: number;
  /** HTTP/1 request head (request line + headers) limit in bytes; larger gets 431. */
  readonly maxHeaderBytes: number;
  /** How long a client may take to send a complete request head; slower gets 408 and a close. */
  readonly headersTimeoutMs: number;
  /** How long an idle client keep-alive connection is kept open. */
  readonly idleTimeoutMs: number;
  /** How long an idle pooled upstream connection is kept. */
  readonly poolIdleTimeoutMs: number;
  /** How long in-flight work may continue after SIGTERM before the proxy exits. */
  readonly shutdownGraceMs: number;
  /** HTTP/2: largest decoded header list (or trailers) accepted, from clients and from endpoints. */
  readonly http2MaxHeaderListSize: number;
  /** HTTP/2: streams one client connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly http2MaxConcurrentStreams: number;
  /** The controller's TLS identity, verified against the trust anchors. */
  readonly controllerIdentity: string;
  /** This proxy's identity name; required with a controller. */
  readonly identityName: string | undefined;
  /** The platform token file for this pod's service account; required with a controller. */
  readonly identityTokenFile: string | undefined;
  /** PEM trust anchors (the mesh's root certificates); required with a controller. */
  readonly trustAnchorsFile: string | undefined;
  /** Sent with every discovery lookup: JSON such as {"ns":"nodevoto","pod":"web-..."}. */
  readonly destinationContext: string;
  /** Original destinations inside these networks are resolved through discovery; others go straight out. */
  readonly discoveryNetworks: readonly string[];
  /** How long a request may wait for discovery or an endpoint before failing (503). */
  readonly failfastMs: number;
  /** Where an outbound connection goes when it was not redirected by iptables (tests, development). */
  readonly outboundDefaultDst: SocketAddr | undefined;
  /** Where an inbound connection goes when it was not redirected by iptables (tests, development). */
  readonly inboundDefaultDst: SocketAddr | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_OPAQUE_PORTS = '25,587,3306,4444,5432,6379,9300,11211';

/** Parses durations such as `10s`, `300ms`, `2m`, or a bare number of milliseconds. */
export function parseDurationMs(text: string): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return `"${text}" is not a duration (examples: 300ms, 10s, 2m)`;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

/** Parses the environment. Returns the config, or the list of every problem found (each names its variable). */
export function parseProxyConfig(env: Env): ProxyConfig | { errors: string[] } {
  const errors: string[] = [];
  const get = (name: string) => {
    const v = env[`FATHOM_PROXY_${name}`];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  const addr = (name: string, fallback: string | undefined): SocketAddr | undefined => {
    const text = get(name) ?? fallback;
    if (text === undefined) return undefined;
    const parsed = parseSocketAddr(text);
    if (typeof parsed === 'string') {
      errors.push(`FATHOM_PROXY_${name}: ${parsed}`);
      return undefined;
    }
    return parsed;
  };
  const duration = (name: string, fallback: string): number => {
    const parsed = parseDurationMs(get(name) ?? fallback);
    if (typeof parsed === 'string') {
      errors.push(`FATHOM_PROXY_${name}: ${parsed}`);
      return 0;
    }
    return parsed;
  };
  const bytes = (name: string, fallback: number): number => {
    const text = get(name);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1024) {
      errors.push(`FATHOM_PROXY_${name}: "${text}" is not a byte count of at least 1024`);
      return fallback;
    }
    return Number(text);
  };

  const count = (name: string, fallback: number): number => {
    const text = get(name);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 2 ** 31 - 1) {
      errors.push(`FATHOM_PROXY_${name}: "${text}" is not a whole number from 1 to 2147483647`);
      return fallback;
    }
    return Number(text);
  };

  const cidrs = (name: string, fallback: string): string[] => {
    const list = (get(name) ?? fallback).split(',').map((c) => c.trim()).filter((c) => c !== '');
    for (const c of list) {
      const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(c);
      const family = m ? isIP(m[1]!) : 0;
      if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) errors.push(`FATHOM_PROXY_${name}: "${c}" is not a network (examples: 198.18.0.0/16, fd00::/8)`);
    }
    return list;
  };
  const logLevel = get('LOG_LEVEL') ?? 'info';
  if (!isLogLevel(logLevel)) errors.push(`FATHOM_PROXY_LOG_LEVEL: "${logLevel}" is not one of error, warn, info, debug, trace`);
  const opaque = parsePortList(get('OPAQUE_PORTS') ?? DEFAULT_OPAQUE_PORTS);
  if (typeof opaque === 'string') errors.push(`FATHOM_PROXY_OPAQUE_PORTS: ${opaque}`);

  const config: ProxyConfig = {
    inboundAddr: addr('INBOUND_ADDR', '0.0.0.0:4143')!,
    outboundAddr: addr('OUTBOUND_ADDR', '127.0.0.1:4140')!,
    adminAddr: addr('ADMIN_ADDR', '0.0.0.0:4191')!,
    tapAddr: addr('TAP_ADDR', '0.0.0.0:4190')!,
    controllerAddr: addr('CONTROLLER_ADDR', undefined),
    logLevel: isLogLevel(logLevel) ? logLevel : 'info',
    opaquePorts: typeof opaque === 'string' ? new Set() : opaque,
    detectTimeoutMs: duration('DETECT_TIMEOUT', '10s'),
    inboundConnectTimeoutMs: duration('INBOUND_CONNECT_TIMEOUT', '300ms'),
    outboundConnectTimeoutMs: duration('OUTBOUND_CONNECT_TIMEOUT', '1s'),
    maxHeaderBytes: bytes('MAX_HEADER_BYTES', 64 * 1024),
    headersTimeoutMs: duration('HEADERS_TIMEOUT', '10s'),
    idleTimeoutMs: duration('IDLE_TIMEOUT', '60s'),
    poolIdleTimeoutMs: duration('POOL_IDLE_TIMEOUT', '3s'),
    shutdownGraceMs: duration('SHUTDOWN_GRACE_PERIOD', '2m'),
    // 64 KiB, not Linkerd's 16 KiB, which truncated large gRPC trailers (linkerd2#15199); Envoy allows 60 KiB.
    http2MaxHeaderListSize: bytes('HTTP2_MAX_HEADER_LIST_SIZE', 64 * 1024),
    // Go's net/http2 default; clients queue (gRPC) or open another connection past it.
    http2MaxConcurrentStreams: count('HTTP2_MAX_CONCURRENT_STREAMS', 250),
    controllerIdentity: get('CONTROLLER_IDENTITY') ?? 'controller.fathom.serviceaccount.identity.fathom.cluster.local',
    identityName: get('IDENTITY_NAME'),
    identityTokenFile: get('IDENTITY_TOKEN_FILE'),
    trustAnchorsFile: get('TRUST_ANCHORS_FILE'),
    destinationContext: get('DESTINATION_CONTEXT') ?? '',
    discoveryNetworks: cidrs('DISCOVERY_NETWORKS', '198.18.0.0/16,198.19.0.0/16'),
    failfastMs: duration('FAILFAST_TIMEOUT', '3s'),
    outboundDefaultDst: addr('OUTBOUND_DEFAULT_DST', undefined),
    inboundDefaultDst: addr('INBOUND_DEFAULT_DST', undefined),
  };
  if (config.controllerAddr) {
    for (const [name, value] of [['IDENTITY_NAME', config.identityName], ['IDENTITY_TOKEN_FILE', config.identityTokenFile], ['TRUST_ANCHORS_FILE', config.trustAnchorsFile]] as const) {
      if (value === undefined) errors.push(`FATHOM_PROXY_${name}: required when FATHOM_PROXY_CONTROLLER_ADDR is set`);
    }
  }
  return errors.length > 0 ? { errors } : config;
}
