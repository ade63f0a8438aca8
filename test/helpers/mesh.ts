// Test helper for meshes of real proxies: a real controller in process (memory platform) that pods reach
// through a bridge (a unix socket in this process, and a relay on 127.0.0.1:8086 inside each pod's network
// namespace: no address outside the test namespaces), and pods made of a network namespace with
// `fathom-proxy init` rules and a proxy running as uid 2102 with the controller, its token and the trust
// anchors. The controller can be restarted (same CA, same platform state) while pods run.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { MemoryPlatform } from '../../src/platform/memory/memory-platform.js';
import type { PodInput, ServiceInput } from '../../src/platform/memory/state.js';
import { PROXY_NODE_FLAGS } from '../../src/lib/mesh-names.js';
import { parseExposition, type Sample } from '../../src/lib/prom-text.js';
import { startController, type InProcessController } from './controller.js';
import type { CleanupScope, Netns } from './netns.js';
import { PROXY_BIN } from './proxy.js';

export const PROXY_UID = 2102;
export const APP_UID = 1000;
/** Where each pod's relay to the controller listens, inside the pod. */
const RELAY_PORT = 8086;

export function identityOf(serviceAccount: string, namespace: string): string {
  return `${serviceAccount}.${namespace}.serviceaccount.identity.fathom.cluster.local`;
}

/** The controller, its platform state (kept across restarts) and the bridge pods reach it through. */
export class MeshController {
  private readonly services = new Map<string, ServiceInput>();
  private readonly pods = new Map<string, PodInput>();
  private readonly tokens: Record<string, { namespace: string; serviceAccount: string }> = {};
  readonly dir = mkdtempSync(join(tmpdir(), 'fathom-mesh-'));
  readonly bridgePath = join(this.dir, 'controller.sock');
  private readonly stateDir = join(this.dir, 'state');
  private current!: InProcessController;
  private bridge!: Server;
  private readonly bridged = new Set<Socket>();

  static async start(scope: CleanupScope): Promise<MeshController> {
    const mesh = new MeshController();
    chmodSync(mesh.dir, 0o755);
    scope.after(() => mesh.close());
    mesh.current = await startController({ platform: new MemoryPlatform(), stateDir: mesh.stateDir });
    mesh.bridge = createServer((client) => {
      const upstream = connect(mesh.current.controller.port, '127.0.0.1');
      mesh.bridged.add(client);
      client.once('close', () => mesh.bridged.delete(client));
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
        a.pipe(b);
      }
    });
    await new Promise<void>((resolve) => mesh.bridge.listen(mesh.bridgePath, resolve));
    return mesh;
  }

  get platform(): MemoryPlatform {
    return this.current.platform;
  }

  get identity(): string {
    return this.current.controller.identity;
  }

  get trustAnchorsPem(): string {
    return this.current.controller.trustAnchorsPem;
  }

  applyService(input: ServiceInput): void {
    this.services.set(`${input.namespace}/${input.name}`, input);
    this.platform.applyService(input);
  }

  applyPod(input: PodInput): void {
    this.pods.set(`${input.namespace}/${input.name}`, input);
    this.platform.applyPod(input);
  }

  deletePod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
    this.platform.deletePod(namespace, name);
  }

  setToken(token: string, sa: { namespace: string; serviceAccount: string }): void {
    this.tokens[token] = sa;
    this.platform.setToken(token, sa);
  }

  /** Stops the controller (every stream to it breaks) and starts it again on the same CA and state. */
  async restart(downMs = 0): Promise<void> {
    await this.current.close();
    for (const s of this.bridged) s.destroy();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    const platform = new MemoryPlatform({ services: [...this.services.values()], pods: [...this.pods.values()], tokens: { ...this.tokens } });
    this.current = await startController({ platform, stateDir: this.stateDir });
  }

  async close(): Promise<void> {
    for (const s of this.bridged) s.destroy();
    this.bridge?.close();
    await this.current?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface PodOptions {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Extra FATHOM_PROXY_* settings. */
  readonly env?: Record<string, string>;
  /** Node options for the proxy, e.g. `--cpu-prof` to profile it. */
  readonly nodeArgs?: readonly string[];
}

/** A meshed pod: its namespace, identity, and its proxy's logs and metrics. */
export class Pod {
  private logs = '';

  private constructor(
    readonly ns: Netns,
    readonly name: string,
    readonly identity: string,
  ) {}

  /** Installs the redirect rules, the relay to the controller and the proxy; resolves once the proxy is ready (certified). */
  static async start(ns: Netns, mesh: MeshController, opts: PodOptions): Promise<Pod> {
    const pod = new Pod(ns, opts.name, identityOf(opts.serviceAccount, opts.namespace));
    const dir = join(mesh.dir, opts.name);
    writeFiles(dir, { token: `token-${opts.name}`, 'anchors.pem': mesh.trustAnchorsPem });
    mesh.setToken(`token-${opts.name}`, { namespace: opts.namespace, serviceAccount: opts.serviceAccount });

    const init = await ns.exec(process.execPath, [PROXY_BIN, 'init']);
    assert.equal(init.code, 0, init.stderr);
    const relay = `require('node:net').createServer((c) => { const u = require('node:net').connect(${JSON.stringify(mesh.bridgePath)}); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); c.pipe(u).pipe(c); }).listen(${RELAY_PORT}, '127.0.0.1');`;
    ns.spawn(process.execPath, ['-e', relay], { stdio: 'ignore' });

    const proxy = ns.spawn(process.execPath, [...PROXY_NODE_FLAGS, ...(opts.nodeArgs ?? []), PROXY_BIN], {
      uid: PROXY_UID,
      cwd: dir,
      env: {
        PATH: '/usr/bin:/bin',
        FATHOM_PROXY_LOG_LEVEL: 'debug',
        FATHOM_PROXY_CONTROLLER_ADDR: `127.0.0.1:${RELAY_PORT}`,
        FATHOM_PROXY_CONTROLLER_IDENTITY: mesh.identity,
        FATHOM_PROXY_IDENTITY_NAME: pod.identity,
        FATHOM_PROXY_IDENTITY_TOKEN_FILE: join(dir, 'token'),
        FATHOM_PROXY_TRUST_ANCHORS_FILE: join(dir, 'anchors.pem'),
        FATHOM_PROXY_DESTINATION_CONTEXT: JSON.stringify({ ns: opts.namespace, pod: opts.name }),
        ...opts.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proxy.stderr!.setEncoding('utf8').on('data', (d: string) => (pod.logs += d));
    await pod.waitReady(15_000);
    return pod;
  }

  proxyLogs(): string {
    return this.logs;
  }

  async metrics(): Promise<Sample[]> {
    const res = await this.ns.exec('curl', ['-sf', 'http://127.0.0.1:4191/metrics']);
    assert.equal(res.code, 0, `scrape of ${this.name} failed: ${res.stderr}`);
    return parseExposition(res.stdout);
  }

  /** Sum of the samples of `name` whose labels include all of `labels`. */
  async metric(name: string, labels: Record<string, string>): Promise<number> {
    return sum(await this.metrics(), name, labels);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const probe = `
      const deadline = Date.now() + ${timeoutMs};
      (async function poll() {
        const ok = await fetch('http://127.0.0.1:4191/ready').then((r) => r.status === 200, () => false);
        if (ok) process.exit(0);
        if (Date.now() > deadline) process.exit(1);
        setTimeout(poll, 50);
      })();`;
    const res = await this.ns.exec(process.execPath, ['-e', probe], { timeoutMs: timeoutMs + 5000 });
    assert.equal(res.code, 0, `proxy of ${this.name} not ready: ${this.logs}`);
  }
}

export function sum(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** Writes files into a fresh directory the proxy (uid 2102) can read; it is also its read-only working directory. */
function writeFiles(dir: string, files: Record<string, string>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o644 });
}
