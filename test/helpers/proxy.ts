// Test helper: runs the real bin/fathom-proxy as a child process on free loopback ports and waits
// until its admin endpoint says ready. Also small helpers to scrape and query its metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PROXY_NODE_FLAGS } from '../../src/lib/mesh-names.js';
import { parseExposition, type Sample } from '../../src/lib/prom-text.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PROXY_BIN = `${ROOT}bin/fathom-proxy`;

export interface ProxyProcess {
  readonly inboundPort: number;
  readonly outboundPort: number;
  readonly adminPort: number;
  readonly child: ChildProcess;
  /** Everything the proxy wrote to stderr so far. */
  logs(): string;
  metrics(): Promise<Sample[]>;
  /** Sum of the samples of `name` whose labels include all of `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGTERM and wait for exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

export async function startProxyProcess(env: Record<string, string> = {}, opts: { host?: string } = {}): Promise<ProxyProcess> {
  const host = opts.host ?? '127.0.0.1';
  const inboundPort = await freePort(host);
  const outboundPort = await freePort(host);
  const adminPort = await freePort(host);
  const child = spawn(process.execPath, [...PROXY_NODE_FLAGS, PROXY_BIN], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      FATHOM_PROXY_INBOUND_ADDR: `${host}:${inboundPort}`,
      FATHOM_PROXY_OUTBOUND_ADDR: `${host}:${outboundPort}`,
      FATHOM_PROXY_ADMIN_ADDR: `${host}:${adminPort}`,
      FATHOM_PROXY_LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'exit');
  try {
    await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`fathom-proxy exited with ${child.exitCode}: ${stderr}`);
    const res = await fetch(`http://${host}:${adminPort}/ready`).catch(() => undefined);
    return res?.status === 200;
    }, 10_000, () => `fathom-proxy not ready: ${stderr}`);
  } catch (err) {
    child.kill('SIGKILL'); // never leave a half-started proxy behind
    throw err;
  }

  const metrics = async () => parseExposition(await (await fetch(`http://${host}:${adminPort}/metrics`)).text());
  return {
    inboundPort,
    outboundPort,
    adminPort,
    child,
    logs: () => stderr,
    metrics,
    async metric(name, labels = {}) {
      let sum = 0;
      for (const s of await metrics()) {
        if (s.name !== name) continue;
        if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
      }
      return sum;
    },
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `check` every 50 ms until it returns true or the deadline passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, describe: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
