// Before/after comparison of proxy builds on a shared machine: runs one short fixed-rate benchmark per
// build in turn (the order reversed every other round, so a drift in the machine's load does not favour
// one), several rounds, and prints each run and the medians. Each build is a checkout with its own dist/
// (a git worktree of the commit before the change, built with scripts/setup.sh), measured with its own
// bench/run.js. docs/performance.md's optimisation log quotes these figures.
// Usage: node dist/bench/ab.js [--rounds 5] [--rate 2000] [--duration 8] [--protocol http1] [--nice 5]
//          LABEL=DIR[,SCENARIO[,NODE_FLAGS]] ...    e.g. before=/work/base after=. nhp=.,node-http-proxy-1hop
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResultRow } from './report/row.js';

interface Build {
  readonly label: string;
  readonly dir: string;
  readonly scenario: string;
  /** Extra node flags for fathom-proxy (--proxy-node-flags), space-separated. */
  readonly nodeFlags: string;
  readonly rows: ResultRow[];
}

const USAGE = 'usage: node dist/bench/ab.js [--rounds N] [--rate R] [--duration S] [--protocol http1|grpc] [--nice N] LABEL=DIR[,SCENARIO[,NODE_FLAGS]] ...';

function parse(argv: string[]): { builds: Build[]; rounds: number; rate: string; duration: string; protocol: string; nice: string } | string {
  const opts = new Map<string, string>([['--rounds', '5'], ['--rate', '2000'], ['--duration', '8'], ['--protocol', 'http1'], ['--nice', '5']]);
  const builds: Build[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (opts.has(a)) {
      if (argv[i + 1] === undefined) return `${a} needs a value\n${USAGE}`;
      opts.set(a, argv[++i]!);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq <= 0) return `unexpected argument "${a}"\n${USAGE}`;
    const [dir, scenario, nodeFlags] = a.slice(eq + 1).split(',');
    builds.push({ label: a.slice(0, eq), dir: resolve(dir!), scenario: scenario || 'fathom-1hop', nodeFlags: nodeFlags ?? '', rows: [] });
  }
  if (builds.length === 0) return USAGE;
  return { builds, rounds: Number(opts.get('--rounds')), rate: opts.get('--rate')!, duration: opts.get('--duration')!, protocol: opts.get('--protocol')!, nice: opts.get('--nice')! };
}

function measure(b: Build, rate: string, duration: string, protocol: string, nice: string): ResultRow {
  const args = [`${b.dir}/dist/bench/run.js`, '--scenarios', b.scenario, '--protocols', protocol, '--rates', rate, '--duration', duration, '--no-search', '--no-docs'];
  if (b.nodeFlags !== '') args.push('--proxy-node-flags', b.nodeFlags);
  execFileSync('nice', ['-n', nice, process.execPath, ...args], { cwd: b.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const rows = JSON.parse(readFileSync(`${b.dir}/bench/results/latest.json`, 'utf8')) as ResultRow[];
  const row = rows.find((r) => r.kind === 'fixed' && r.scenario === b.scenario);
  if (!row) throw new Error(`${b.label}: no ${b.scenario} row in ${b.dir}/bench/results/latest.json`);
  return row;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fmt = (n: number | null | undefined, digits = 0): string => (n === null || n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

function main(): void {
  const o = parse(process.argv.slice(2));
  if (typeof o === 'string') {
    process.stderr.write(`${o}\n`);
    process.exitCode = 2;
    return;
  }
  for (let round = 1; round <= o.rounds; round++) {
    for (const b of round % 2 === 1 ? o.builds : [...o.builds].reverse()) {
      const r = measure(b, o.rate, o.duration, o.protocol, o.nice);
      b.rows.push(r);
      process.stdout.write(
        `round ${round} ${b.label.padEnd(10)} CPU ${fmt(r.proxy_cpu_ms_per_1k)} ms/1k, RSS peak ${fmt(r.proxy_rss_mb, 1)} MB (idle ${fmt(r.proxy_rss_idle_mb, 1)}), p50 ${fmt(r.p50_ms, 2)} p99 ${fmt(r.p99_ms, 2)} ms, ${r.errors} errors, other jobs ${fmt(r.background_cpu_pct)} %\n`,
      );
    }
  }
  process.stdout.write(`medians over ${o.rounds} rounds, ${o.protocol} at ${o.rate} req/s:\n`);
  for (const b of o.builds) {
    const m = (pick: (r: ResultRow) => number | null) => median(b.rows.map((r) => pick(r) ?? NaN));
    const runs = b.rows.map((r) => fmt(r.proxy_cpu_ms_per_1k)).join(' ');
    process.stdout.write(
      `  ${b.label.padEnd(10)} CPU ${fmt(m((r) => r.proxy_cpu_ms_per_1k))} ms/1k (${runs}), RSS peak ${fmt(m((r) => r.proxy_rss_mb), 1)} MB, p50 ${fmt(m((r) => r.p50_ms), 2)} p99 ${fmt(m((r) => r.p99_ms), 2)} ms\n`,
    );
  }
}

main();
