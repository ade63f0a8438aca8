// The pieces of a real mesh in network namespaces, for the benchmark (as test/helpers/mesh.ts builds
// them for tests): a fathom-controller (memory platform) alone in a namespace of its own, reached from
// each pod through relays over a unix socket (the pod's 127.0.0.1:8086 → socket → the controller's
// 127.0.0.1:8086), and meshed pods: `fathom-proxy init` redirect rules, then fathom-proxy as uid 2102
// with its token and the trust anchors, ready once the controller has certified its identity.
// Every port is inside a namespace, so nothing collides with a local mesh or another run on this host.
import { chmodSync, chownSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExposition, type Sample } from '../../src/lib/prom-text.js';
import { waitUntil, type Child } from './processes.js';
import type { Netns } from './netns.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONTROLLER_BIN = `${ROOT}bin/fathom-controller`;
export const PROXY_BIN = `${ROOT}bin/fathom-proxy`;
const RELAY = fileURLToPath(new URL('./relay.js', import.meta.url));

/** The proxy's uid: `fathom-proxy init` leaves its own connections alone. */
export const PROXY_UID = 2102;
/** Where the controller listens in its namespace, and where each pod's relay to it listens in the pod. */
const CONTROLLER_PORT = 8086;
/** The proxy's admin server inside a pod (default port). */
const ADMIN = 'http://127.0.0.1:4191';

export function identityOf(serviceAccount: string, namespace: string): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.fathom.cluster.local`;
}

export interface MeshController {
  readonly child: Child;
  /** The controller's own identity, which proxies check when they connect to it. */
  readonly identity: string;
  readonly trustAnchorsPem: string;
  /** The unix socket that leads to it. */
  readonly socket: string;
}

/** Resolves once `child` prints a line matching `pattern` on stdout (started with stdout piped). */
function printed(child: Child, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${child.name}: nothing matching ${pattern} after ${timeoutMs} ms: ${child.logs()}`)), timeoutMs);
    child.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.proc.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited: ${child.logs()}`));
    });
  });
}

/** Starts a relay inside `ns` (LISTEN → CONNECT, each HOST:PORT or a socket path); resolves once it listens. */
async function startRelay(ns: Netns, listen: string, target: string): Promise<Child> {
  const relay = ns.spawn(`relay in ${ns.name}`, process.execPath, [RELAY, listen, target], { stdout: 'pipe' });
  await printed(relay, /listening/);
  return relay;
}

/** The controller in namespace `ns`, following the memory platform's state in `statePath`. */
export async function startController(ns: Netns, dir: string, statePath: string): Promise<MeshController> {
  const stateDir = join(dir, 'controller');
  mkdirSync(stateDir, { recursive: true });
  const args = [CONTROLLER_BIN, '--addr', `127.0.0.1:${CONTROLLER_PORT}`, '--api-addr', 'off', '--state-dir', stateDir, '--platform', 'memory', '--memory-state', statePath];
  const child = ns.spawn('fathom-controller', process.execPath, args);
  await waitUntil(child, async () => /serving destination and identity over TLS/.test(child.logs()), 15_000);
  const identity = /serving destination and identity over TLS.*?identity=(\S+)/.exec(child.logs())?.[1];
  if (!identity) throw new Error(`fathom-controller did not log its identity: ${child.logs()}`);
  const socket = join(dir, 'controller.sock');
  await startRelay(ns, socket, `127.0.0.1:${CONTROLLER_PORT}`);
  return { child, identity, trustAnchorsPem: readFileSync(join(stateDir, 'trust-anchors.pem'), 'utf8'), socket };
}

export interface PodOptions {
  /** Pod name; also the name of its directory (token, anchors, the proxy's working directory). */
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The token the memory platform's state maps to the service account. */
  readonly token: string;
  /** A directory the proxy's uid can traverse. */
  readonly dir: string;
  /** Node flags for the proxy (the runner's --proxy-node-flags, --cpu-prof). */
  readonly nodeArgs: readonly string[];
  /** Extra FATHOM_PROXY_* settings. */
  readonly env?: Record<string, string>;
}

export interface MeshedPod {
  readonly ns: Netns;
  readonly proxy: Child;
  readonly identity: string;
  metrics(): Promise<Sample[]>;
}

/** Installs the redirect rules, the relay to the controller and the proxy; resolves once the proxy is ready (certified). */
export async function startPod(ns: Netns, controller: MeshController, opts: PodOptions): Promise<MeshedPod> {
  const identity = identityOf(opts.serviceAccount, opts.namespace);
  const dir = join(opts.dir, opts.name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'token'), opts.token, { mode: 0o644 });
  writeFileSync(join(dir, 'anchors.pem'), controller.trustAnchorsPem, { mode: 0o644 });
  // --cpu-prof writes when the proxy exits, as its uid.
  for (const a of opts.nodeArgs) {
    const profDir = /^--cpu-prof-dir=(.+)$/.exec(a)?.[1];
    if (profDir) {
      mkdirSync(profDir, { recursive: true });
      chownSync(profDir, PROXY_UID, PROXY_UID);
    }
  }

  const init = await ns.exec(process.execPath, [PROXY_BIN, 'init']);
  if (init.code !== 0) throw new Error(`fathom-proxy init in ${ns.name} failed: ${init.stderr.trim()}`);
  await startRelay(ns, `127.0.0.1:${CONTROLLER_PORT}`, controller.socket);

  const proxy = ns.spawn(`fathom-proxy (${opts.name})`, process.execPath, [...opts.nodeArgs, PROXY_BIN], {
    uid: PROXY_UID,
    cwd: dir,
    env: {
      PATH: '/usr/bin:/bin',
      FATHOM_PROXY_CONTROLLER_ADDR: `127.0.0.1:${CONTROLLER_PORT}`,
      FATHOM_PROXY_CONTROLLER_IDENTITY: controller.identity,
      FATHOM_PROXY_IDENTITY_NAME: identity,
      FATHOM_PROXY_IDENTITY_TOKEN_FILE: join(dir, 'token'),
      FATHOM_PROXY_TRUST_ANCHORS_FILE: join(dir, 'anchors.pem'),
      FATHOM_PROXY_DESTINATION_CONTEXT: JSON.stringify({ ns: opts.namespace, pod: opts.name }),
      FATHOM_PROXY_SHUTDOWN_GRACE_PERIOD: '2s',
      ...opts.env,
    },
  });
  // Ready means certified by the controller's identity service.
  const ready = async (): Promise<boolean> => (await ns.exec('curl', ['-sf', '-o', '/dev/null', '--max-time', '2', `${ADMIN}/ready`])).code === 0;
  await waitUntil(proxy, ready, 20_000);
  // The runner samples CPU and RSS by pid: it must be the proxy's node process, not a wrapper.
  const exe = readlinkSafe(`/proc/${proxy.pid}/exe`);
  if (exe !== process.execPath) throw new Error(`pid ${proxy.pid} of ${opts.name}'s proxy is ${exe}, not node: the runner would measure the wrong process`);
  return { ns, proxy, identity, metrics: async () => parseExposition(await ns.fetchText(`${ADMIN}/metrics`)) };
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Sum of the samples of `name` whose labels include all of `labels`. */
export function sum(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
