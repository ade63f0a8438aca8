// One measured run: the load generator at one rate against a running scenario, while this process
// samples the proxy's RSS every 100 ms and its CPU time at the opening and closing of the measured
// window (the load generator reports both), and the same for the backend and the generator itself.
import { performance } from 'node:perf_hooks';
import { Histogram } from './loadgen/histogram.js';
import type { LoadConfig } from './loadgen/protocol.js';
import { runLoad, type LoadResult } from './loadgen/spawn.js';
import { cpuMs, machineCpuMs, processTree, rssMb, RssSampler } from './lib/proc.js';
import type { ResultRow } from './report/row.js';
import type { Protocol, RunningScenario } from './scenarios/scenario.js';

export interface Measurement {
  readonly row: ResultRow;
  readonly latency: Histogram;
  readonly problems: Array<[string, number]>;
}

/** RSS of the larger proxy (each proxy counted with its descendants), in MiB. */
export function proxyRss(trees: readonly (readonly number[])[]): number {
  return trees.reduce((m, t) => Math.max(m, rssMb(t)), 0);
}

const round = (n: number, digits = 3): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

export async function measure(
  scenario: string,
  protocol: Protocol,
  running: RunningScenario,
  config: LoadConfig,
  backendPid: number,
  idleRssMb: number | null,
): Promise<Measurement> {
  const hasProxy = running.proxies.length > 0;
  let trees: number[][] = [];
  let sampler: RssSampler | undefined;
  const zero = { proxy: 0, backend: 0, loadgen: 0, busy: 0, steal: 0, at: 0 };
  let start = zero;
  let end = zero;
  let peak = 0;
  const read = (loadgenPid: number) => ({ proxy: cpuMs(trees.flat()), backend: cpuMs([backendPid]), loadgen: cpuMs([loadgenPid]), ...machineCpuMs(), at: performance.now() });
  const result: LoadResult = await runLoad(config, running.netns, (phase, loadgenPid) => {
    if (phase === 'measuring') {
      trees = running.proxies.map((pid) => processTree(pid));
      start = read(loadgenPid);
      if (hasProxy) sampler = new RssSampler(() => proxyRss(trees));
    } else {
      end = read(loadgenPid);
      peak = sampler?.stop() ?? 0;
    }
  });
  sampler?.stop();
  const latency = Histogram.from(result.latency);
  const sendLag = Histogram.from(result.sendLag);
  const requests = result.ok + result.errors;
  const per1k = (ms: number): number | null => (requests > 0 ? round((ms / requests) * 1000, 1) : null);
  // CPU the machine spent on anything but this run (other jobs on a shared machine), in % of one core.
  const wallMs = end.at - start.at;
  const ours = end.proxy - start.proxy + (end.backend - start.backend) + (end.loadgen - start.loadgen);
  const background = wallMs > 0 ? Math.max(0, ((end.busy - start.busy - ours) / wallMs) * 100) : 0;
  const steal = wallMs > 0 ? ((end.steal - start.steal) / wallMs) * 100 : 0;
  const row: ResultRow = {
    scenario,
    protocol,
    rate: config.rate,
    p50_ms: round(latency.percentile(50)),
    p90_ms: round(latency.percentile(90)),
    p99_ms: round(latency.percentile(99)),
    p999_ms: round(latency.percentile(99.9)),
    max_ms: round(latency.maxMs),
    achieved_rps: round(result.ok / (result.measuredMs / 1000), 1),
    errors: result.errors,
    proxy_rss_mb: hasProxy ? round(peak, 1) : null,
    proxy_cpu_ms_per_1k: hasProxy ? per1k(end.proxy - start.proxy) : null,
    kind: 'fixed',
    proxy_rss_idle_mb: hasProxy && idleRssMb !== null ? round(idleRssMb, 1) : null,
    // The generator's figure comes from its own process.cpuUsage(), finer than /proc's 10 ms ticks.
    loadgen_cpu_ms_per_1k: per1k(result.cpuMs),
    backend_cpu_ms_per_1k: per1k(end.backend - start.backend),
    send_lag_p99_ms: round(sendLag.percentile(99)),
    background_cpu_pct: round(background, 0),
    steal_cpu_pct: round(steal, 0),
  };
  return { row, latency, problems: result.problems };
}
