// The generated part of docs/performance.md: summary tables per protocol, the issue's targets with how
// far each is, every fixed-rate run, and the max-rate search path, all from a run's rows.
import type { Machine } from './machine.js';
import type { ResultRow } from './row.js';
import type { Protocol } from '../scenarios/scenario.js';
import type { BenchOptions } from '../options.js';

const PROTOCOL_NAMES: Record<Protocol, string> = { http1: 'HTTP/1.1', grpc: 'gRPC unary' };
const num = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function fixedRow(rows: readonly ResultRow[], scenario: string, protocol: Protocol, rate: number): ResultRow | undefined {
  return rows.find((r) => r.scenario === scenario && r.protocol === protocol && r.kind === 'fixed' && r.rate === rate);
}

export function maxRow(rows: readonly ResultRow[], scenario: string, protocol: Protocol): ResultRow | undefined {
  return rows.find((r) => r.scenario === scenario && r.protocol === protocol && r.kind === 'max');
}

function scenariosOf(rows: readonly ResultRow[], protocol: Protocol): string[] {
  return [...new Set(rows.filter((r) => r.protocol === protocol).map((r) => r.scenario))];
}

function whyMissing(rows: readonly ResultRow[], scenario: string, protocol: Protocol): string | undefined {
  return rows.find((r) => r.scenario === scenario && r.protocol === protocol && (r.kind === 'pending' || r.kind === 'failed'))?.note;
}

function summary(rows: readonly ResultRow[], protocol: Protocol, refRate: number, loadRate: number): string {
  const base = fixedRow(rows, 'direct', protocol, refRate);
  const body = scenariosOf(rows, protocol).map((s) => {
    const at = fixedRow(rows, s, protocol, refRate);
    const loaded = fixedRow(rows, s, protocol, loadRate);
    const max = maxRow(rows, s, protocol);
    const missing = whyMissing(rows, s, protocol);
    if (!at && missing) return [s, `${missing.startsWith('pending') ? 'pending' : 'failed'}: ${missing.replace(/^pending: /, '')}`, '', '', '', '', '', '', '', ''];
    const diff = at && base && at.p99_ms !== null && base.p99_ms !== null && s !== 'direct' ? at.p99_ms - base.p99_ms : null;
    const added = diff === null ? '–' : diff < 0 ? `−${num(-diff)}` : `+${num(diff)}`;
    const maxRate = max?.kind === 'max' ? String(max.rate) : missing ? 'none' : '–';
    // What one core could carry at this CPU cost per request: a throughput figure that other jobs on the
    // machine barely move (unlike the search, whose p99 they disturb).
    const capacity = loaded?.proxy_cpu_ms_per_1k ? String(Math.round(1e6 / loaded.proxy_cpu_ms_per_1k / 50) * 50) : '–';
    return [s, maxRate, capacity, num(at?.p50_ms), num(at?.p99_ms), num(at?.p999_ms), added, num(at?.proxy_rss_idle_mb, 1), num(loaded?.proxy_rss_mb, 1), num(at?.proxy_cpu_ms_per_1k, 0)];
  });
  return table(
    ['scenario', 'max rate, p99 < 10 ms (req/s)', `one core's worth at the CPU cost @${loadRate} (req/s)`, `p50 @${refRate} (ms)`, `p99 @${refRate} (ms)`, `p99.9 @${refRate} (ms)`, `added p99 @${refRate} vs direct (ms)`, 'proxy RSS idle (MB)', `proxy RSS peak @${loadRate} (MB)`, `proxy CPU @${refRate} (ms / 1000 req)`],
    body,
  );
}

function targets(rows: readonly ResultRow[]): string {
  const out: string[] = [];
  const direct = fixedRow(rows, 'direct', 'http1', 1000);
  const mesh = fixedRow(rows, 'fathom-mesh', 'http1', 1000);
  if (mesh && direct && mesh.p99_ms !== null && direct.p99_ms !== null) {
    const added = mesh.p99_ms - direct.p99_ms;
    out.push(`- **Mesh path adds ≤ 1 ms at p99 at 1000 req/s** (HTTP/1.1): adds ${num(added)} ms — ${added <= 1 ? 'met' : `not met (${num(added - 1)} ms over)`}.`);
  } else {
    out.push(`- **Mesh path adds ≤ 1 ms at p99 at 1000 req/s**: not measured yet — ${whyMissing(rows, 'fathom-mesh', 'http1') ?? 'fathom-mesh not in this run'}.`);
  }
  const rssRows = rows.filter((r) => (r.scenario === 'fathom-1hop' || r.scenario === 'fathom-mesh') && r.kind === 'fixed' && r.rate === 1000 && r.proxy_rss_mb !== null);
  if (rssRows.length) {
    const worst = Math.max(...rssRows.map((r) => r.proxy_rss_mb!));
    out.push(`- **Proxy RSS < 60 MB at 1000 req/s**: peak ${num(worst, 1)} MB (${rssRows.map((r) => `${r.scenario} ${PROTOCOL_NAMES[r.protocol]} ${num(r.proxy_rss_mb, 1)}`).join(', ')}) — ${worst < 60 ? `met (${num(60 - worst, 1)} MB to spare)` : `not met (${num(worst - 60, 1)} MB over)`}.`);
  }
  const fathomMax = maxRow(rows, 'fathom-1hop', 'http1');
  const nodeMaxes = ['node-http-proxy-1hop', 'fastify-http-proxy-1hop'].map((s) => ({ s, r: maxRow(rows, s, 'http1') }));
  const label = (s: string): string => s.replace('-1hop', '');
  if (fathomMax && nodeMaxes.every((n) => n.r)) {
    const best = Math.max(...nodeMaxes.map((n) => n.r!.rate ?? 0));
    const f = fathomMax.rate ?? 0;
    out.push(`- **fathom-1hop sustains a higher max rate than both Node.js proxies** (HTTP/1.1), by the search: ${f} vs ${nodeMaxes.map((n) => `${label(n.s)} ${n.r!.rate}`).join(', ')} req/s — ${f > best ? 'met' : `not met (${Math.round((f / best) * 100)} % of the best)`}.`);
  }
  // The same question asked of CPU per request, which other jobs on the machine do not disturb.
  const loadRate = Math.max(...rows.filter((r) => r.kind === 'fixed' && r.protocol === 'http1').map((r) => r.rate ?? 0));
  const cost = (s: string): number | null => fixedRow(rows, s, 'http1', loadRate)?.proxy_cpu_ms_per_1k ?? null;
  const fathomCost = cost('fathom-1hop');
  const nodeCosts = ['node-http-proxy-1hop', 'fastify-http-proxy-1hop'].map((s) => ({ s, c: cost(s) }));
  if (fathomCost !== null && nodeCosts.every((n) => n.c !== null)) {
    const cheapest = Math.min(...nodeCosts.map((n) => n.c!));
    out.push(`  By CPU per request at ${loadRate} req/s: fathom-1hop ${num(fathomCost, 0)} ms per 1000 requests vs ${nodeCosts.map((n) => `${label(n.s)} ${num(n.c, 0)}`).join(', ')} — ` +
      (fathomCost < cheapest ? 'cheaper than both.' : `${Math.round((fathomCost / cheapest - 1) * 100)} % more than the cheapest: not met on this measure.`));
  }
  return out.join('\n');
}

export function generatedSection(rows: readonly ResultRow[], machine: Machine, opts: BenchOptions, charts: ReadonlyArray<{ protocol: Protocol; path: string }>): string {
  const rates = opts.rates;
  const refRate = rates.includes(1000) ? 1000 : rates[0]!;
  const loadRate = Math.max(...rates);
  const protocols = opts.protocols.filter((p) => rows.some((r) => r.protocol === p));
  const out: string[] = [];
  out.push('<!-- Generated by `npm run bench` (bench/report/): edits here are overwritten on the next full run. -->');
  out.push(`### Results of ${machine.date.slice(0, 10)}`);
  out.push('');
  out.push(`Run ${machine.date} on commit ${machine.commit}, ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB memory, ${machine.kernel}, Node ${machine.node}; load average ${machine.loadAverage} at start. ` +
    `Open-loop constant-rate load from bench/loadgen in its own process; ${opts.payloadBytes}-byte request and response bodies; ${opts.connections} HTTP/1.1 keep-alive connections, ${opts.grpcConnections} gRPC channels (${opts.grpcClient === 'h2' ? 'own node:http2 unary client' : '@grpc/grpc-js client'}); ` +
    `${opts.warmupMs / 1000} s warm-up (not recorded) then ${opts.durationMs / 1000} s per fixed rate; the max-rate search steps are ${opts.searchWarmupMs / 1000} s + ${opts.searchDurationMs / 1000} s, passing with p99 < 10 ms, no errors and ≥ 95 % of the rate achieved.` +
    (opts.nice !== 0 ? ` Every process of the run (generator, backend, proxies) ran at nice ${opts.nice}, to keep other jobs on this shared machine from disturbing it.` : ''));
  const background = rows.map((r) => r.background_cpu_pct).filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (background.length) {
    const median = background[Math.floor(background.length / 2)]!;
    out.push('', `During the measured windows, other jobs on the machine used ${background[0]}–${background[background.length - 1]} % of a core (median ${median} %): ` +
      (median > 25 ? '**the tails (p99 and beyond) and the max rates are disturbed by them; CPU per request and RSS are not.** Compare scenarios within this run, and prefer a quiet machine.' : 'a quiet machine.'));
  }
  for (const protocol of protocols) {
    out.push('', `#### ${PROTOCOL_NAMES[protocol]}`, '', summary(rows, protocol, refRate, loadRate));
  }
  out.push('', '#### Targets (issue 9)', '', targets(rows));
  if (charts.length) {
    out.push('', `#### Latency by percentile at ${refRate} req/s`, '');
    for (const c of charts) out.push(`![${PROTOCOL_NAMES[c.protocol]} latency by percentile at ${refRate} req/s](${c.path})`);
  }
  out.push('', '#### Every fixed-rate run', '');
  const fixed = rows.filter((r) => r.kind === 'fixed');
  out.push(
    table(
      ['scenario', 'protocol', 'rate', 'p50', 'p90', 'p99', 'p99.9', 'max (ms)', 'achieved (req/s)', 'errors', 'proxy RSS peak (MB)', 'proxy CPU (ms/1k)', 'load gen CPU (ms/1k)', 'backend CPU (ms/1k)', 'other jobs (% of a core)'],
      fixed.map((r) => [r.scenario, PROTOCOL_NAMES[r.protocol], String(r.rate), num(r.p50_ms), num(r.p90_ms), num(r.p99_ms), num(r.p999_ms), num(r.max_ms), num(r.achieved_rps, 0), String(r.errors), num(r.proxy_rss_mb, 1), num(r.proxy_cpu_ms_per_1k, 0), num(r.loadgen_cpu_ms_per_1k, 0), num(r.backend_cpu_ms_per_1k, 0), num(r.background_cpu_pct, 0)]),
    ),
  );
  const searches = rows.filter((r) => r.search?.length);
  if (searches.length) {
    out.push('', '#### Max-rate search steps (rate req/s: p99 ms, ✓ pass / ✗ fail; ⚠ other jobs used > 50 % of a core meanwhile)', '');
    for (const r of searches) {
      const step = (s: NonNullable<ResultRow['search']>[number]): string =>
        `${s.rate}: ${num(s.p99_ms, 1)}${s.errors ? ` (${s.errors} err)` : ''} ${s.pass ? '✓' : '✗'}${(s.background_cpu_pct ?? 0) > 50 ? ' ⚠' : ''}`;
      out.push(`- ${r.scenario} ${PROTOCOL_NAMES[r.protocol]}: ${r.search!.map(step).join(', ')}`);
    }
  }
  const missing = rows.filter((r) => r.kind === 'pending' || (r.kind === 'failed' && !r.search));
  if (missing.length) {
    out.push('', '#### Not measured', '');
    for (const r of missing) out.push(`- ${r.scenario} ${PROTOCOL_NAMES[r.protocol]}: ${r.note ?? r.kind}`);
  }
  out.push('', '- node-http-proxy and @fastify/http-proxy are measured on HTTP/1.1 only: neither forwards gRPC (HTTP/2 with trailers) as configured by default.');
  return out.join('\n');
}
