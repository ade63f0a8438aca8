// The benchmark runner's command line: `node dist/bench/run.js [--quick] [options]` (npm run bench --).
import type { Protocol } from './scenarios/scenario.js';

export interface BenchOptions {
  readonly quick: boolean;
  readonly scenarios: readonly string[] | undefined;
  readonly protocols: readonly Protocol[];
  readonly rates: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly searchMax: boolean;
  readonly searchWarmupMs: number;
  readonly searchDurationMs: number;
  readonly payloadBytes: number;
  readonly connections: number;
  readonly grpcConnections: number;
  readonly grpcClient: 'grpc-js' | 'h2';
  /** Write the generated section of docs/performance.md (full runs by default). */
  readonly docs: boolean;
  /** Run Fathom's proxies under `node --cpu-prof` and summarize the profile. */
  readonly cpuProf: boolean;
  /** Extra node flags for Fathom's proxies (experiments such as --max-semi-space-size=2). */
  readonly proxyNodeFlags: readonly string[];
  /** Scheduling priority (nice value) for the runner and every process it starts; 0 leaves it. */
  readonly nice: number;
}

export const USAGE = `usage: npm run bench -- [options]
  --quick                 direct, fathom-1hop, fathom-mesh at 1000 req/s, no max-rate search (< 2 min)
  --scenarios a,b         only these scenarios (names as in bench/scenarios/index.ts)
  --protocols http1,grpc  protocols to measure (default both)
  --rates 500,1000,2000   fixed rates in requests/s
  --duration S            measured seconds per fixed rate (default 8; quick 10)
  --warmup S              warm-up seconds, not recorded (default 2)
  --no-search             skip the maximum-sustainable-rate search
  --payload BYTES         request and response body size (default 1024)
  --connections N         HTTP/1.1 keep-alive connections (default 32)
  --grpc-connections N    gRPC channels, one HTTP/2 connection each (default 4)
  --grpc-client C         grpc-js (default: @grpc/grpc-js's client) or h2 (own unary calls on node:http2,
                          about a third less CPU per call)
  --no-docs / --docs      (do not) rewrite the generated section of docs/performance.md
  --cpu-prof              run fathom-proxy under node --cpu-prof and print its hottest functions
  --proxy-node-flags "F"  extra node flags for fathom-proxy, after (and overriding) its production flags
                          (PROXY_NODE_FLAGS in src/lib/mesh-names.ts), e.g. "--max-semi-space-size=2"
  --nice N                run everything (generator, backend, every proxy alike) at nice value N, e.g. -5
                          on a machine shared with other jobs (negative values need root)`;

export function parseOptions(argv: readonly string[]): BenchOptions | string {
  const quick = argv.includes('--quick');
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const known = new Set(['--quick', '--scenarios', '--protocols', '--rates', '--duration', '--warmup', '--no-search', '--payload', '--connections', '--grpc-connections', '--grpc-client', '--no-docs', '--docs', '--cpu-prof', '--proxy-node-flags', '--nice', '--help']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!known.has(a)) return `unknown argument "${a}"\n${USAGE}`;
    if (['--scenarios', '--protocols', '--rates', '--duration', '--warmup', '--payload', '--connections', '--grpc-connections', '--grpc-client', '--proxy-node-flags', '--nice'].includes(a)) i++;
  }
  if (argv.includes('--help')) return USAGE;
  const num = (name: string, fallback: number, min: number): number | string => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    return Number.isFinite(n) && n >= min ? n : `${name}: "${v}" is not a number of at least ${min}`;
  };
  const rates = value('--rates')?.split(',').map(Number) ?? (quick ? [1000] : [500, 1000, 2000]);
  if (rates.some((r) => !(r > 0))) return `--rates: expected positive numbers, got "${value('--rates')}"`;
  const protocols = (value('--protocols')?.split(',') ?? ['http1', 'grpc']) as Protocol[];
  if (protocols.some((p) => p !== 'http1' && p !== 'grpc')) return `--protocols: expected http1 and/or grpc, got "${value('--protocols')}"`;
  const duration = num('--duration', quick ? 10 : 8, 1);
  const warmup = num('--warmup', 2, 0);
  const payload = num('--payload', 1024, 0);
  const connections = num('--connections', 32, 1);
  const grpcConnections = num('--grpc-connections', 4, 1);
  for (const v of [duration, warmup, payload, connections, grpcConnections]) if (typeof v === 'string') return v;
  const nice = Number(value('--nice') ?? 0);
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) return `--nice: expected a whole number from -20 to 19, got "${value('--nice')}"`;
  const grpcClient = value('--grpc-client') ?? 'grpc-js';
  if (grpcClient !== 'grpc-js' && grpcClient !== 'h2') return `--grpc-client: expected grpc-js or h2, got "${grpcClient}"`;
  return {
    quick,
    scenarios: value('--scenarios')?.split(','),
    protocols,
    rates,
    warmupMs: (warmup as number) * 1000,
    durationMs: (duration as number) * 1000,
    searchMax: !quick && !argv.includes('--no-search'),
    searchWarmupMs: 1000,
    searchDurationMs: 3000,
    payloadBytes: payload as number,
    connections: connections as number,
    grpcConnections: grpcConnections as number,
    grpcClient,
    docs: argv.includes('--docs') || (!quick && !argv.includes('--no-docs') && value('--scenarios') === undefined),
    cpuProf: argv.includes('--cpu-prof'),
    nice,
    proxyNodeFlags: value('--proxy-node-flags')?.split(/\s+/).filter(Boolean) ?? [],
  };
}
