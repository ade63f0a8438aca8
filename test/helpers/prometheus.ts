// Test helper: runs the real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port with a
// generated configuration in a temporary directory, scraping the given targets with their static labels
// (as the local platform's file-based discovery would label a pod's proxy), and waits for their first
// scrape; stop() removes it all.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './proxy.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** A reason to skip when Prometheus is not installed, else false. */
export function prometheusMissing(): string | false {
  try {
    accessSync(PROMETHEUS_BIN, constants.X_OK);
    return false;
  } catch {
    return `${PROMETHEUS_BIN} not found (Debian: apt-get install -y prometheus)`;
  }
}

export interface ScrapeTarget {
  /** `host:port` of a /metrics endpoint. */
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PrometheusProcess {
  readonly url: string;
  readonly child: ChildProcess;
  logs(): string;
  /** SIGTERM (SIGKILL after 5 s), then removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The port is found free, then bound by Prometheus: another process may take it in between, so retry. */
const ATTEMPTS = 3;

export interface PrometheusOptions {
  /** The scrape job of the targets (the platform's is `fathom-proxy`). */
  readonly job: string;
  readonly targets: readonly ScrapeTarget[];
  readonly scrapeIntervalSeconds?: number;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= ATTEMPTS || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(opts: PrometheusOptions): Promise<PrometheusProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'fathom-prometheus-'));
  const port = await freePort();
  const interval = `${opts.scrapeIntervalSeconds ?? 1}s`;
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(opts.job)}`,
    '    static_configs:',
    ...opts.targets.flatMap((t) => [`      - targets: [${JSON.stringify(t.address)}]`, `        labels: ${JSON.stringify(t.labels)}`]),
    '  - job_name: prometheus',
    '    static_configs:',
    `      - targets: ["127.0.0.1:${port}"]`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=1h',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'exit');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200;
      },
      20_000,
      () => `prometheus ready at ${url}: ${stderr}`,
    );
    // Prometheus hands targets to its scrapers only some seconds after it is ready (its discovery
    // updates are throttled to one every 5 s): wait for the first scrape of every target, so that a
    // load started now is measured from its start.
    const expected = opts.targets.length + 1;
    await waitFor(
      async () => {
        const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('count(up)')}`).catch(() => undefined);
        const body = (await res?.json().catch(() => undefined)) as { data?: { result?: { value: [number, string] }[] } } | undefined;
        return Number(body?.data?.result?.[0]?.value[1] ?? 0) >= expected;
      },
      20_000,
      () => `prometheus to scrape its ${expected} targets: ${stderr}`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, child, logs: () => stderr, stop };
}
