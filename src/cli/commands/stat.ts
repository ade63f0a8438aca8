// `fathom stat`: golden metrics (success rate, RPS, latency percentiles, TCP connections) per deployment,
// pod, namespace, service or authority, from the control plane's metrics API, in Linkerd's columns.
import { parseWindow, DEFAULT_WINDOW } from '../../controller/metrics-api/promql.js';
import { parseResource, type ResourceRef } from '../../controller/metrics-api/resources.js';
import type { StatResponse, StatRow } from '../../controller/metrics-api/types.js';
import { ApiClient, API_OPTIONS, type ApiFlags } from '../api-client.js';
import { defineCommand, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import { useColour, type CommandIO } from '../io.js';
import { parseOutputFormat, renderStructured } from '../output.js';
import { renderTable, type Colour, type Column } from '../table.js';

export interface StatArgs extends ApiFlags {
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly allNamespaces: boolean;
  readonly from: string | undefined;
  readonly fromNamespace: string | undefined;
  readonly to: string | undefined;
  readonly toNamespace: string | undefined;
  readonly window: string;
  readonly output: 'table' | 'wide' | 'json';
}

// Row formats as Linkerd prints them: MESHED %d/%d, SUCCESS %.2f%%, RPS %.1frps, latencies %dms, `-` without traffic.
const dash = <T>(value: T | null, format: (v: T) => string) => (value === null ? '-' : format(value));
export const formatSuccess = (v: number | null) => dash(v, (s) => `${(s * 100).toFixed(2)}%`);
export const formatRps = (v: number | null) => dash(v, (r) => `${r.toFixed(1)}rps`);
export const formatLatency = (v: number | null) => dash(v, (ms) => `${Math.round(ms)}ms`);
const formatBytes = (v: number | null) => dash(v, (b) => `${b.toFixed(1)}B/s`);
/** Below 95 % in red, as a hint where to look; colour only reaches a terminal. */
export const successColour = (v: number | null): Colour | undefined => (v === null ? undefined : v < 0.95 ? 'red' : 'green');

export function statColumns(args: Pick<StatArgs, 'allNamespaces' | 'output'>, kind: string): Column<StatRow>[] {
  const columns: Column<StatRow>[] = [];
  if (args.allNamespaces && kind !== 'namespace') columns.push({ header: 'namespace', value: (r) => r.namespace });
  columns.push(
    { header: 'name', value: (r) => r.name },
    { header: 'meshed', value: (r) => (r.meshed === null || r.running === null ? '-' : `${r.meshed}/${r.running}`), align: 'right' },
    { header: 'success', value: (r) => formatSuccess(r.success), align: 'right', colour: (r) => successColour(r.success) },
    { header: 'rps', value: (r) => formatRps(r.rps), align: 'right' },
    { header: 'latency_p50', value: (r) => formatLatency(r.latency_ms_p50), align: 'right' },
    { header: 'latency_p95', value: (r) => formatLatency(r.latency_ms_p95), align: 'right' },
    { header: 'latency_p99', value: (r) => formatLatency(r.latency_ms_p99), align: 'right' },
    { header: 'tcp_conn', value: (r) => dash(r.tcp_open_connections, (n) => String(Math.round(n))), align: 'right' },
  );
  if (args.output === 'wide') {
    columns.push(
      { header: 'read_bytes/sec', value: (r) => formatBytes(r.read_bytes_per_sec), align: 'right' },
      { header: 'write_bytes/sec', value: (r) => formatBytes(r.write_bytes_per_sec), align: 'right' },
    );
  }
  return columns;
}

/** The `-o json` objects: the fields scripts rely on, in a stable order. */
function jsonRow(r: StatRow) {
  return {
    namespace: r.namespace,
    kind: r.kind,
    name: r.name,
    meshed: r.meshed,
    running: r.running,
    success: r.success,
    rps: r.rps,
    latency_ms_p50: r.latency_ms_p50,
    latency_ms_p95: r.latency_ms_p95,
    latency_ms_p99: r.latency_ms_p99,
    tcp_open_connections: r.tcp_open_connections,
  };
}

export async function run(args: StatArgs, io: CommandIO): Promise<number> {
  const api = ApiClient.for(args, io);
  const res = await api.get<StatResponse>('/api/v1/stat', {
    resource: args.resource,
    namespace: args.namespace,
    'all-namespaces': args.allNamespaces,
    from: args.from,
    'from-namespace': args.fromNamespace,
    to: args.to,
    'to-namespace': args.toNamespace,
    window: args.window,
  });
  if (args.output === 'json') {
    io.stdout.write(renderStructured(res.rows.map(jsonRow), 'json'));
    return EXIT_OK;
  }
  if (res.rows.length === 0) {
    io.stderr.write('No traffic found.\n');
    return EXIT_OK;
  }
  const kind = (parseResource(args.resource) as ResourceRef).kind;
  io.stdout.write(renderTable(statColumns(args, kind), res.rows, { colour: useColour(io) }));
  return EXIT_OK;
}

/** `deploy`, `deploy/web`, or `deploy web`: checked here so that a typo is a usage error (exit 2). */
export function resourceOperand(operands: readonly string[]): string {
  const [kind, name] = operands;
  const text = name === undefined ? kind! : `${kind}/${name}`;
  const ref = parseResource(text);
  if (typeof ref === 'string') throw new UsageError(ref);
  return text;
}

export function checkedResourceFlag(flags: FlagValues, name: string, flag: string): string | undefined {
  const text = stringFlag(flags, name);
  if (text !== undefined && typeof parseResource(text) === 'string') throw new UsageError(`${flag}: ${parseResource(text) as string}`);
  return text;
}

export function windowFlag(flags: FlagValues): string {
  const text = stringFlag(flags, 'timeWindow') ?? DEFAULT_WINDOW;
  const window = parseWindow(text);
  if (typeof window === 'string') throw new UsageError(`--time-window: ${window}`);
  return window.text;
}

export const NAMESPACE_OPTION = { flags: '-n, --namespace <ns>', description: 'namespace of the resources (default: default)' };
export const OUTPUT_OPTION = { flags: '-o, --output <format>', description: 'wide (more columns) or json; a table by default' };
export const WINDOW_OPTION = { flags: '-t, --time-window <window>', description: `window the figures are computed over, at least 15s (default: ${DEFAULT_WINDOW})` };

export const command = defineCommand<StatArgs>({
  name: 'stat',
  description:
    'Golden metrics of resources: success rate, requests per second, latency percentiles and open TCP connections, ' +
    'of the traffic they receive (or send, with --from/--to), over a time window. RESOURCE is deploy, pod, ns, svc or authority, ' +
    'optionally with /NAME. Services are always measured from their clients.',
  examples: [
    'fathom stat deploy -n nodevoto',
    'fathom stat deploy/web -n nodevoto -t 15s',
    'fathom stat pod -A -o wide',
    'fathom stat deploy -n nodevoto --to deploy/voting',
    'fathom stat svc -n nodevoto --from deploy/web -o json',
  ],
  operands: [
    { name: 'resource', description: 'deploy, pod, ns, svc or authority, optionally /NAME' },
    { name: 'name', description: 'the name, as an alternative to RESOURCE/NAME', optional: true },
  ],
  options: [
    NAMESPACE_OPTION,
    { flags: '-A, --all-namespaces', description: 'resources of every namespace' },
    { flags: '--from <resource>', description: 'only traffic from this resource (e.g. deploy/vote-bot)' },
    { flags: '--from-namespace <ns>', description: 'namespace of --from (default: -n)' },
    { flags: '--to <resource>', description: 'only traffic to this resource (e.g. deploy/voting)' },
    { flags: '--to-namespace <ns>', description: 'namespace of --to (default: -n)' },
    WINDOW_OPTION,
    OUTPUT_OPTION,
    ...API_OPTIONS,
  ],
  bind: (operands, flags: FlagValues) => {
    const from = checkedResourceFlag(flags, 'from', '--from');
    const to = checkedResourceFlag(flags, 'to', '--to');
    if (from !== undefined && to !== undefined) throw new UsageError('--from and --to cannot be used together');
    return {
      resource: resourceOperand(operands),
      namespace: stringFlag(flags, 'namespace'),
      allNamespaces: flags['allNamespaces'] === true,
      from,
      fromNamespace: stringFlag(flags, 'fromNamespace'),
      to,
      toNamespace: stringFlag(flags, 'toNamespace'),
      window: windowFlag(flags),
      output: parseOutputFormat(stringFlag(flags, 'output'), ['table', 'wide', 'json']) as StatArgs['output'],
      apiAddr: stringFlag(flags, 'apiAddr'),
      stateDir: stringFlag(flags, 'stateDir'),
    };
  },
  run,
});
