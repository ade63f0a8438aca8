// What meshing adds to a local pod: the init step that installs the redirect rules in the pod's network
// namespace, and the fathom-proxy sidecar (uid 2102) with its environment. The proxy's environment is
// built in one function, proxyEnv, the single place to adjust when the proxy's settings change.
import { identityName } from '../../lib/identity-name.js';
import {
  INJECT_ANNOTATION,
  PROXY_CONTAINER,
  PROXY_LOG_LEVEL_ANNOTATION,
  PROXY_NODE_FLAGS,
  PROXY_PORTS,
  PROXY_UID,
  SKIP_INBOUND_PORTS_ANNOTATION,
  SKIP_OUTBOUND_PORTS_ANNOTATION,
} from '../../lib/mesh-names.js';
import { OPAQUE_PORTS_ANNOTATION, parseOpaquePorts } from '../platform.js';
import type { LocalConfig } from './config.js';
import { layout } from './layout.js';
import type { ContainerSpec } from './objects.js';
import { DEFAULT_PATH } from './pod-record.js';

export interface MeshedPod {
  readonly namespace: string;
  readonly name: string;
  readonly serviceAccount: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** The app containers, whose named ports an opaque-ports annotation may use. */
  readonly containers: readonly ContainerSpec[];
}

export function isMeshed(annotations: Readonly<Record<string, string>>): boolean {
  return annotations[INJECT_ANNOTATION] === 'enabled';
}

/** The proxy's environment (docs/proxy-config.md), given the pod and the file holding its token. */
export function proxyEnv(config: LocalConfig, pod: MeshedPod, tokenFile: string): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: pod.name };
  if (!config.proxyStandalone) {
    Object.assign(env, {
      FATHOM_PROXY_CONTROLLER_ADDR: `${config.gateway}:${config.controllerPort}`,
      FATHOM_PROXY_CONTROLLER_IDENTITY: identityName('controller', config.controlNamespace, config.trustDomain, config.controlNamespace),
      FATHOM_PROXY_IDENTITY_NAME: identityName(pod.serviceAccount, pod.namespace, config.trustDomain, config.controlNamespace),
      FATHOM_PROXY_IDENTITY_TOKEN_FILE: tokenFile,
      FATHOM_PROXY_TRUST_ANCHORS_FILE: layout(config.stateDir).trustAnchors,
      FATHOM_PROXY_DESTINATION_CONTEXT: JSON.stringify({ ns: pod.namespace, pod: pod.name }),
      FATHOM_PROXY_DISCOVERY_NETWORKS: `${config.podCidr},${config.serviceCidr}`,
    });
  }
  const logLevel = pod.annotations[PROXY_LOG_LEVEL_ANNOTATION];
  if (logLevel) env['FATHOM_PROXY_LOG_LEVEL'] = logLevel;
  const opaque = opaquePorts(pod);
  if (opaque !== undefined) env['FATHOM_PROXY_OPAQUE_PORTS'] = opaque;
  return env;
}

/** The pod's opaque ports as numbers (named container ports resolved), or undefined when not annotated. */
function opaquePorts(pod: MeshedPod): string | undefined {
  const value = pod.annotations[OPAQUE_PORTS_ANNOTATION];
  if (value === undefined) return undefined;
  const named = (name: string) => pod.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === name)?.containerPort;
  const ports = parseOpaquePorts(value, named);
  return typeof ports === 'string' ? undefined : [...ports].sort((a, b) => a - b).join(',');
}

/** `fathom-proxy init` with the pod's skip-port annotations, run as root inside the pod's namespace. */
export function initContainer(config: LocalConfig, pod: MeshedPod, node: string): ContainerSpec {
  const args = ['init'];
  const skipIn = pod.annotations[SKIP_INBOUND_PORTS_ANNOTATION];
  const skipOut = pod.annotations[SKIP_OUTBOUND_PORTS_ANNOTATION];
  if (skipIn) args.push('--skip-inbound-ports', skipIn);
  if (skipOut) args.push('--skip-outbound-ports', skipOut);
  return {
    name: 'fathom-init',
    image: 'fathom/proxy',
    command: [node, `${config.installDir}/bin/fathom-proxy`],
    args,
    workingDir: '/',
    env: [{ name: 'PATH', value: DEFAULT_PATH }],
  };
}

/** The proxy sidecar: uid 2102, ready when its admin server's /ready answers 200. */
export function proxyContainer(config: LocalConfig, pod: MeshedPod, tokenFile: string, node: string): ContainerSpec {
  const env = proxyEnv(config, pod, tokenFile);
  return {
    name: PROXY_CONTAINER,
    image: 'fathom/proxy',
    command: [node, ...PROXY_NODE_FLAGS, `${config.installDir}/bin/fathom-proxy`],
    workingDir: '/',
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    ports: [
      { name: 'fathom-proxy', containerPort: PROXY_PORTS.inbound, protocol: 'TCP' },
      { name: 'fathom-admin', containerPort: PROXY_PORTS.admin, protocol: 'TCP' },
    ],
    readinessProbe: { httpGet: { path: '/ready', port: PROXY_PORTS.admin }, periodSeconds: 2, failureThreshold: 3 },
    securityContext: { runAsUser: PROXY_UID, runAsGroup: PROXY_UID },
  };
}
