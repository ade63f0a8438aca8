// One local-platform instance's settings (state directory, names of its host objects, address ranges,
// ports), chosen by `fathom up`, saved in the state directory and read back by every other command, the
// agent, the pods' supervisors and the controller's platform.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FathomError, errorCode } from '../../lib/errors.js';
import { nthAddress, overlaps, parseCidr, within, type Cidr } from './cidr.js';
import { writeFileAtomic } from './files.js';

export const DEFAULT_STATE_DIR = '/var/lib/fathom';
export const DEFAULT_TAG = 'fathom';
export const DEFAULT_POD_CIDR = '198.18.0.0/16';
export const DEFAULT_SERVICE_CIDR = '198.19.0.0/16';
/** Where Prometheus listens: a port of its own, not the 9090 of a Prometheus the user may run. */
export const DEFAULT_PROMETHEUS_PORT = 9095;
export const CONTROLLER_PORT = 8086;
/** The controller's metrics API (HTTP/JSON, what `fathom stat` and friends call) on 127.0.0.1. */
export const DEFAULT_API_PORT = 8085;
/** The controller's web dashboard on 127.0.0.1 (`fathom dashboard` prints its URL). */
export const DEFAULT_DASHBOARD_PORT = 50750;
/** Pods and services must stay inside the benchmarking range RFC 2544 reserves: never routed anywhere. */
const ALLOWED_RANGE = parseCidr('198.18.0.0/15') as Cidr;

export interface LocalConfig {
  /** Absolute; holds everything below (see docs/local-platform.md). */
  readonly stateDir: string;
  /**
   * Names this instance's host objects: the gateway link `<tag>0`, pod veths `<tag>-xxxxxx`, network
   * namespaces `<tag>-<ns>.<pod>`, iptables chains `FATHOM-*-<tag>`. Separate instances (parallel
   * tests) use separate tags.
   */
  readonly tag: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** The host's address facing the pods (the pod range's first address); the controller listens here. */
  readonly gateway: string;
  readonly controllerPort: number;
  readonly prometheusPort: number;
  readonly apiPort: number;
  readonly dashboardPort: number;
  /** Development switch (FATHOM_LOCAL_PROXY_STANDALONE=1 at `up`): proxies run without the controller. */
  readonly proxyStandalone: boolean;
  readonly clusterDomain: string;
  readonly trustDomain: string;
  readonly controlNamespace: string;
  /** The Fathom installation whose bin/ and dist/ the daemons and pods run. */
  readonly installDir: string;
}

export interface ConfigInput {
  stateDir?: string | undefined;
  tag?: string | undefined;
  podCidr?: string | undefined;
  serviceCidr?: string | undefined;
  prometheusPort?: number | undefined;
  apiPort?: number | undefined;
  dashboardPort?: number | undefined;
  proxyStandalone?: boolean | undefined;
}

/** The installation this code runs from: dist/src/platform/local/ → the package root. */
export const INSTALL_DIR = fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');

/** The state directory: the flag, else FATHOM_STATE_DIR, else /var/lib/fathom. */
export function stateDirFrom(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  return resolve(cwd, flag ?? env['FATHOM_STATE_DIR'] ?? DEFAULT_STATE_DIR);
}

/** Builds and checks a configuration; errors name the setting. */
export function makeConfig(input: ConfigInput): LocalConfig {
  const tag = input.tag ?? DEFAULT_TAG;
  if (!/^[a-z][a-z0-9]{0,7}$/.test(tag)) {
    throw new FathomError('ECONFIG', `--tag "${tag}": expected 1 to 8 lower-case letters and digits, starting with a letter`);
  }
  const pods = checkedCidr('--pod-cidr', input.podCidr ?? DEFAULT_POD_CIDR);
  const services = checkedCidr('--service-cidr', input.serviceCidr ?? DEFAULT_SERVICE_CIDR);
  if (overlaps(pods, services)) throw new FathomError('ECONFIG', `--pod-cidr ${pods.text} and --service-cidr ${services.text} overlap`);
  const port = checkedPort('--prometheus-port', input.prometheusPort ?? DEFAULT_PROMETHEUS_PORT);
  const apiPort = checkedPort('--api-port', input.apiPort ?? DEFAULT_API_PORT);
  const dashboardPort = checkedPort('--dashboard-port', input.dashboardPort ?? DEFAULT_DASHBOARD_PORT);
  return {
    stateDir: resolve(input.stateDir ?? DEFAULT_STATE_DIR),
    tag,
    podCidr: pods.text,
    serviceCidr: services.text,
    gateway: nthAddress(pods, 1),
    controllerPort: CONTROLLER_PORT,
    prometheusPort: port,
    apiPort,
    dashboardPort,
    proxyStandalone: input.proxyStandalone ?? false,
    clusterDomain: 'cluster.local',
    trustDomain: 'cluster.local',
    controlNamespace: 'fathom',
    installDir: INSTALL_DIR,
  };
}

function checkedPort(flag: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FathomError('ECONFIG', `${flag} ${port}: expected 1-65535`);
  return port;
}

function checkedCidr(flag: string, text: string): Cidr {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') throw new FathomError('ECONFIG', `${flag}: ${cidr}`);
  if (!within(cidr, ALLOWED_RANGE)) throw new FathomError('ECONFIG', `${flag} ${cidr.text}: must lie within ${ALLOWED_RANGE.text}, which is never routed off this host`);
  if (cidr.prefix > 28) throw new FathomError('ECONFIG', `${flag} ${cidr.text}: too small (at most /28)`);
  return cidr;
}

export function configPath(stateDir: string): string {
  return join(stateDir, 'local.json');
}

export function saveConfig(config: LocalConfig): void {
  mkdirSync(config.stateDir, { recursive: true, mode: 0o755 });
  writeFileAtomic(configPath(config.stateDir), JSON.stringify(config, null, 2) + '\n', 0o644);
}

/** The saved configuration, or undefined when `fathom up` never ran with this state directory. */
export function loadConfig(stateDir: string): LocalConfig | undefined {
  try {
    // Settings added since an instance was saved take their defaults.
    return { dashboardPort: DEFAULT_DASHBOARD_PORT, ...(JSON.parse(readFileSync(configPath(stateDir), 'utf8')) as Partial<LocalConfig>) } as LocalConfig;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new FathomError('ECONFIG', `cannot read ${configPath(stateDir)}: ${(err as Error).message}`, { cause: err });
  }
}

/** Like loadConfig, for commands that need a platform that is up. */
export function requireConfig(stateDir: string): LocalConfig {
  const config = loadConfig(stateDir);
  if (!config) throw new FathomError('ENOTUP', `the local platform is not up in ${stateDir}; run 'fathom up' first`);
  return config;
}
