// The controller's configuration: parsed once from command-line flags into a typed object, with every
// bad value reported by flag name and what was expected.
import { Command, CommanderError, Option } from 'commander';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseSocketAddr, parsePortList, type SocketAddr } from '../lib/addr.js';
import { parseDuration } from '../lib/duration.js';
import { checkDnsLabel, checkTrustDomain } from '../lib/identity-name.js';
import { isLogLevel, type LogLevel } from '../lib/log.js';
import type { CaFiles } from './identity/ca.js';
import { DEFAULT_OPAQUE_PORTS } from './destination/endpoint-translator.js';

export interface ControllerConfig {
  /** Where the gRPC server (destination and identity) listens. */
  readonly addr: SocketAddr;
  /** Holds the generated CA and `trust-anchors.pem`. */
  readonly stateDir: string;
  readonly trustDomain: string;
  /** The namespace of the control plane, part of every identity name. */
  readonly controlNamespace: string;
  /** The DNS suffix of services: `<svc>.<ns>.svc.<clusterDomain>`. */
  readonly clusterDomain: string;
  readonly issuanceLifetimeMs: number;
  readonly clockSkewMs: number;
  /** The user's CA, or undefined to generate one (or reuse the generated one) in the state directory. */
  readonly caFiles: CaFiles | undefined;
  readonly platform: string;
  /** For the memory platform: a JSON state file to load and follow. */
  readonly memoryState: string | undefined;
  readonly defaultOpaquePorts: ReadonlySet<number>;
  readonly logLevel: LogLevel;
  /** Where the metrics API (HTTP/JSON) listens; undefined with `--api-addr off`. */
  readonly apiAddr: SocketAddr | undefined;
  /** The Prometheus the metrics API queries. */
  readonly prometheusUrl: string;
  /** Where the web dashboard listens; undefined with `--dashboard-addr off`. */
  readonly dashboardAddr: SocketAddr | undefined;
}

export const DEFAULT_ADDR = '127.0.0.1:8086';
/** Linkerd's metrics API port. */
export const DEFAULT_API_ADDR = '127.0.0.1:8085';
/** Linkerd's dashboard port, on loopback only. */
export const DEFAULT_DASHBOARD_ADDR = '127.0.0.1:50750';
/** The Prometheus that `fathom up` runs (src/platform/local/config.ts). */
export const DEFAULT_PROMETHEUS_URL = 'http://127.0.0.1:9095';

function program(): Command {
  return new Command('fathom-controller')
    .description("Fathom's control plane: destination (discovery and profiles) and identity (the mesh's CA) over gRPC with TLS.")
    .option('--addr <host:port>', 'gRPC listen address', DEFAULT_ADDR)
    .option('--state-dir <dir>', 'directory for the generated CA and trust-anchors.pem', join(homedir(), '.fathom', 'controller'))
    .option('--trust-domain <domain>', 'trust domain of identities', 'cluster.local')
    .option('--control-namespace <ns>', 'namespace of the control plane, part of identity names', 'fathom')
    .option('--cluster-domain <domain>', 'DNS suffix of service names after svc.', 'cluster.local')
    .option('--issuance-lifetime <duration>', 'lifetime of issued certificates', '24h')
    .option('--clock-skew <duration>', 'clock-skew allowance on both ends of a certificate', '20s')
    .option('--trust-anchor <file>', 'PEM trust anchor bundle (with --issuer-cert and --issuer-key)')
    .option('--issuer-cert <file>', 'PEM issuer certificate, signed by a trust anchor')
    .option('--issuer-key <file>', 'PEM issuer private key (ECDSA)')
    .addOption(new Option('--platform <kind>', 'where workloads come from').default('memory'))
    .option('--memory-state <file>', 'memory platform: JSON state to load and follow')
    .option('--default-opaque-ports <ports>', 'opaque ports for pods and services that do not say', [...DEFAULT_OPAQUE_PORTS].join(','))
    .option('--log-level <level>', 'error, warn, info, debug or trace', 'info')
    .option('--api-addr <host:port>', 'metrics API (HTTP/JSON) listen address, or "off"', DEFAULT_API_ADDR)
    .option('--prometheus-url <url>', 'the Prometheus the metrics API queries', DEFAULT_PROMETHEUS_URL)
    .option('--dashboard-addr <host:port>', 'web dashboard listen address (keep it on loopback), or "off"', DEFAULT_DASHBOARD_ADDR)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .helpOption('-h, --help');
}

/** Help text, for `--help`. */
export function helpText(): string {
  return program().helpInformation();
}

/**
 * Parses `argv` (without node and script). Errors are values: a message naming the flag and what it expects.
 * `help` comes back when `--help` was asked for.
 */
export function parseConfig(argv: readonly string[]): ControllerConfig | { error: string } | 'help' {
  const cmd = program();
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'commander.helpDisplayed') return 'help';
    return { error: (err as Error).message.replace(/^error: /, '') };
  }
  const o = cmd.opts<Record<string, string | undefined>>();
  const fail = (flag: string, why: string) => ({ error: `--${flag}: ${why}` });

  const addr = parseSocketAddr(o.addr!);
  if (typeof addr === 'string') return fail('addr', addr);
  const lifetime = parseDuration(o.issuanceLifetime!);
  if (typeof lifetime === 'string') return fail('issuance-lifetime', lifetime);
  if (lifetime < 60_000) return fail('issuance-lifetime', `${o.issuanceLifetime} is too short (at least 1m)`);
  const skew = parseDuration(o.clockSkew!);
  if (typeof skew === 'string') return fail('clock-skew', skew);
  const tdError = checkTrustDomain(o.trustDomain!);
  if (tdError) return fail('trust-domain', tdError);
  const nsError = checkDnsLabel(o.controlNamespace!, 'namespace');
  if (nsError) return fail('control-namespace', nsError);
  const cdError = checkTrustDomain(o.clusterDomain!);
  if (cdError) return fail('cluster-domain', cdError.replace('trust domain', 'cluster domain'));
  const opaque = parsePortList(o.defaultOpaquePorts!);
  if (typeof opaque === 'string') return fail('default-opaque-ports', opaque);
  if (!isLogLevel(o.logLevel!)) return fail('log-level', `"${o.logLevel}" is not one of error, warn, info, debug, trace`);
  const apiAddr = o.apiAddr === 'off' ? undefined : parseSocketAddr(o.apiAddr!);
  if (typeof apiAddr === 'string') return fail('api-addr', apiAddr);
  const dashboardAddr = o.dashboardAddr === 'off' ? undefined : parseSocketAddr(o.dashboardAddr!);
  if (typeof dashboardAddr === 'string') return fail('dashboard-addr', dashboardAddr);
  if (!/^https?:\/\/[^/\s]+/.test(o.prometheusUrl!)) return fail('prometheus-url', `"${o.prometheusUrl}" is not an http:// or https:// URL`);

  const given = [o.trustAnchor, o.issuerCert, o.issuerKey].filter((f) => f !== undefined).length;
  if (given !== 0 && given !== 3) return { error: '--trust-anchor, --issuer-cert and --issuer-key go together: give all three or none' };
  const caFiles =
    given === 3 ? { trustAnchor: resolve(o.trustAnchor!), issuerCert: resolve(o.issuerCert!), issuerKey: resolve(o.issuerKey!) } : undefined;

  return {
    addr,
    stateDir: resolve(o.stateDir!),
    trustDomain: o.trustDomain!,
    controlNamespace: o.controlNamespace!,
    clusterDomain: o.clusterDomain!,
    issuanceLifetimeMs: lifetime,
    clockSkewMs: skew,
    caFiles,
    platform: o.platform!,
    memoryState: o.memoryState === undefined ? undefined : resolve(o.memoryState),
    defaultOpaquePorts: opaque,
    logLevel: o.logLevel,
    apiAddr,
    prometheusUrl: o.prometheusUrl!,
    dashboardAddr,
  };
}
