// Writes a full run's charts (bench/published/*.svg) and replaces the generated section of
// docs/performance.md, between `<!-- bench:begin -->` and `<!-- bench:end -->`; the rest of the page
// (method, optimisation log) is left as it is.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions } from '../options.js';
import type { Protocol } from '../scenarios/scenario.js';
import type { Machine } from './machine.js';
import { fixedRow, generatedSection } from './markdown.js';
import type { ResultRow } from './row.js';
import { lineChartSvg } from './svg.js';

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';
const PERCENTILES = ['p50', 'p90', 'p99', 'p99.9', 'max'];

/** Puts `section` between the markers of `page`, or before "## Optimisation log" (or at the end) if absent. */
export function spliceSection(page: string, section: string): string {
  const block = `${BEGIN}\n${section}\n${END}`;
  const b = page.indexOf(BEGIN);
  const e = page.indexOf(END);
  if (b >= 0 && e > b) return page.slice(0, b) + block + page.slice(e + END.length);
  const log = page.indexOf('## Optimisation log');
  if (log >= 0) return `${page.slice(0, log)}${block}\n\n${page.slice(log)}`;
  return `${page.trimEnd()}\n\n${block}\n`;
}

export function updateDocs(root: string, rows: readonly ResultRow[], machine: Machine, opts: BenchOptions): string[] {
  const written: string[] = [];
  const refRate = opts.rates.includes(1000) ? 1000 : opts.rates[0]!;
  const charts: Array<{ protocol: Protocol; path: string }> = [];
  mkdirSync(join(root, 'bench/published'), { recursive: true });
  for (const protocol of opts.protocols) {
    const series = [...new Set(rows.filter((r) => r.protocol === protocol).map((r) => r.scenario))]
      .map((scenario) => ({ scenario, row: fixedRow(rows, scenario, protocol, refRate) }))
      .filter((s): s is { scenario: string; row: ResultRow } => s.row !== undefined)
      .map(({ scenario, row }) => ({ name: scenario, emphasis: scenario.startsWith('fathom'), values: [row.p50_ms, row.p90_ms, row.p99_ms, row.p999_ms, row.max_ms] }));
    if (series.length === 0) continue;
    const name = `latency-${protocol}-${refRate}rps.svg`;
    const title = `${protocol === 'http1' ? 'HTTP/1.1' : 'gRPC unary'} latency at ${refRate} req/s (${machine.date.slice(0, 10)})`;
    const file = join(root, 'bench/published', name);
    writeFileSync(file, lineChartSvg(title, PERCENTILES, series));
    written.push(file);
    charts.push({ protocol, path: `../bench/published/${name}` });
  }
  const docs = join(root, 'docs/performance.md');
  const page = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Performance\n\n## Optimisation log\n';
  writeFileSync(docs, spliceSection(page, generatedSection(rows, machine, opts, charts)));
  written.push(docs);
  return written;
}

// `node dist/bench/report/docs.js [bench/published/full.json]` re-renders the generated section and charts
// from a saved full run (after a change to the report's format), without measuring again.
if (process.argv[1]?.endsWith('/bench/report/docs.js')) {
  const root = join(import.meta.dirname, '../../..');
  const file = process.argv[2] ?? join(root, 'bench/published/full.json');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { machine: Machine; options: BenchOptions; rows: ResultRow[] };
  for (const f of updateDocs(root, saved.rows, saved.machine, saved.options)) console.log(`wrote ${f}`);
}
