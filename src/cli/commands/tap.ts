// `fathom tap`: live requests of a resource's pods, streamed from the control plane's tap API and printed
// in Linkerd's `req` / `rsp` / `end` lines (or one JSON object per line), until interrupted. Also the
// stream client and filters that `fathom top` shares.
import { once } from 'node:events';
import { FathomError } from '../../lib/errors.js';
import { DEFAULT_MAX_RPS } from '../../controller/tap/request.js';
import type { TapEventJson, TapLine } from '../../controller/tap/types.js';
import { parseResource, type ResourceRef } from '../../controller/metrics-api/resources.js';
import type { ApiErrorBody } from '../../controller/metrics-api/types.js';
import { ApiClient, API_OPTIONS, type ApiFlags } from '../api-client.js';
import { defineCommand, EXIT_FAILURE, EXIT_OK, stringFlag, UsageError, type FlagValues, type OptionSpec } from '../command.js';
import type { CommandIO } from '../io.js';
import { parseOutputFormat } from '../output.js';
import { checkedResourceFlag, NAMESPACE_OPTION, resourceOperand } from './stat.js';

/** What to tap and which of its requests: the flags `tap` and `top` share. */
export interface TapFilters extends ApiFlags {
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly to: string | undefined;
  readonly toNamespace: string | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly authority: string | undefined;
  readonly scheme: string | undefined;
  readonly maxRps: number;
  /** Stops the stream (tests); SIGINT and SIGTERM do it otherwise. */
  readonly signal?: AbortSignal;
}

export interface TapArgs extends TapFilters {
  readonly output: 'table' | 'wide' | 'json';
}

export const FILTER_OPTIONS: readonly OptionSpec[] = [
  NAMESPACE_OPTION,
  { flags: '--to <resource>', description: 'only requests to this resource (e.g. deploy/voting)' },
  { flags: '--to-namespace <ns>', description: 'namespace of --to (default: -n)' },
  { flags: '--method <method>', description: 'only requests with this HTTP method' },
  { flags: '--path <prefix>', description: 'only requests whose path starts with this' },
  { flags: '--authority <authority>', description: 'only requests for this authority (host:port)' },
  { flags: '--scheme <scheme>', description: 'only requests with this scheme (http or https)' },
  { flags: '--max-rps <n>', description: `requests per second to report at most, over all pods (default: ${DEFAULT_MAX_RPS})` },
  ...API_OPTIONS,
];

export function bindFilters(operands: readonly string[], flags: FlagValues): Omit<TapFilters, 'signal'> {
  const rpsText = stringFlag(flags, 'maxRps');
  const maxRps = rpsText === undefined ? DEFAULT_MAX_RPS : Number(rpsText);
  if (!Number.isFinite(maxRps) || maxRps <= 0) throw new UsageError(`--max-rps: expected a positive number, got "${rpsText}"`);
  const to = checkedResourceFlag(flags, 'to', '--to');
  if (to !== undefined && (parseResource(to) as ResourceRef).name === undefined) throw new UsageError(`--to: name the destination, e.g. deploy/voting`);
  return {
    resource: resourceOperand(operands),
    namespace: stringFlag(flags, 'namespace'),
    to,
    toNamespace: stringFlag(flags, 'toNamespace'),
    method: stringFlag(flags, 'method'),
    path: stringFlag(flags, 'path'),
    authority: stringFlag(flags, 'authority'),
    scheme: stringFlag(flags, 'scheme'),
    maxRps,
    apiAddr: stringFlag(flags, 'apiAddr'),
    stateDir: stringFlag(flags, 'stateDir'),
  };
}

/**
 * An AbortSignal for the command's lifetime: aborted by the caller's signal, or else by SIGINT/SIGTERM
 * (then the command exits 0), or when the output is closed. `dispose` removes the process listeners.
 */
export function stopSignal(args: { signal?: AbortSignal }, io: CommandIO): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  args.signal?.addEventListener('abort', stop, { once: true });
  const signals = args.signal === undefined ? (['SIGINT', 'SIGTERM'] as const) : [];
  for (const s of signals) process.once(s, stop);
  io.stdout.once('close', stop);
  io.stdout.once('error', stop);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.removeListener(s, stop);
      io.stdout.removeListener('close', stop);
      io.stdout.removeListener('error', stop);
      args.signal?.removeEventListener('abort', stop);
    },
  };
}

/** The tap API's lines for `filters`, until `signal` aborts (then the iteration just ends). */
export async function* tapStream(filters: TapFilters, io: CommandIO, signal: AbortSignal): AsyncGenerator<TapLine> {
  const api = ApiClient.for(filters, io);
  const query = new URLSearchParams({ resource: filters.resource, 'max-rps': String(filters.maxRps) });
  const optional = { namespace: filters.namespace, to: filters.to, 'to-namespace': filters.toNamespace, method: filters.method, path: filters.path, authority: filters.authority, scheme: filters.scheme };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) query.set(k, v);
  let res: Response;
  try {
    res = await fetch(`http://${api.addr}/api/v1/tap?${query}`, { signal });
  } catch (err) {
    if (signal.aborted) return;
    // The metrics API's client words an unreachable control plane the way every command does.
    await api.get('/api/v1/version');
    throw new FathomError('ENOCONTROLPLANE', `cannot reach the tap API at ${api.addr}: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => undefined)) as Partial<ApiErrorBody> | undefined;
    throw new FathomError(body?.error?.code ?? 'EAPI', body?.error?.message ?? `the tap API at ${api.addr} answered ${res.status}: is --api-addr the control plane's?`);
  }
  let rest = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (line.trim() !== '') yield JSON.parse(line) as TapLine;
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw new FathomError('ENOCONTROLPLANE', `the tap stream from ${api.addr} broke: ${(err as Error).message}`, { cause: err });
  }
  if (!signal.aborted) throw new FathomError('ENOCONTROLPLANE', `the control plane at ${api.addr} ended the tap stream`);
}

/** Go's names of gRPC status codes, as Linkerd prints them. */
const GRPC_STATUS = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

export const grpcStatusName = (code: number) => GRPC_STATUS[code] ?? `Code(${code})`;

/** How `-o wide` names a side: by the label of the tapped kind, else its pod. */
const WIDE_KIND: Readonly<Record<string, readonly [string, string]>> = {
  deployment: ['deployment', 'deploy'],
  pod: ['pod', 'pod'],
  namespace: ['namespace', 'ns'],
  service: ['service', 'svc'],
};

function wideSide(prefix: 'src' | 'dst', labels: Readonly<Record<string, string>>, kind: string): string {
  const [label, short] = WIDE_KIND[kind] ?? WIDE_KIND.pod!;
  const res = labels[label] !== undefined ? `${short}/${labels[label]}` : labels.pod !== undefined ? `pod/${labels.pod}` : undefined;
  return (res === undefined ? '' : ` ${prefix}_res=${res}`) + (labels.namespace === undefined ? '' : ` ${prefix}_ns=${labels.namespace}`);
}

/** One event as Linkerd's tap prints it; `wideKind` (the tapped kind) adds the resources of both sides. */
export function formatTapLine(e: TapEventJson, wideKind?: string): string {
  // "in " keeps the columns of inbound and outbound lines aligned, as in Linkerd.
  const head = `${e.type} id=${e.id} proxy=${e.direction === 'inbound' ? 'in ' : 'out'} src=${e.source} dst=${e.destination} tls=${e.tls}`;
  let body: string;
  if (e.type === 'req') body = ` :method=${e.method} :authority=${e.authority} :path=${e.path}`;
  else if (e.type === 'rsp') body = ` :status=${e.status} latency=${e.latency_us}µs`;
  else {
    const eos = e.grpc_status !== null ? ` grpc-status=${grpcStatusName(e.grpc_status)}` : e.reset_error !== null ? ` reset-error=${e.reset_error}` : '';
    body = `${eos} duration=${e.duration_us}µs response-length=${e.response_bytes}B`;
  }
  if (wideKind === undefined) return head + body;
  const route = e.route_labels.route ?? e.route_labels.rt_route;
  return head + body + wideSide('src', e.source_labels, wideKind) + wideSide('dst', e.destination_labels, wideKind) + (route === undefined ? '' : ` rt_route=${route}`);
}

export async function run(args: TapArgs, io: CommandIO): Promise<number> {
  const stop = stopSignal(args, io);
  const wideKind = args.output === 'wide' ? (parseResource(args.resource) as ResourceRef).kind : undefined;
  try {
    for await (const line of tapStream(args, io, stop.signal)) {
      if (line.type === 'error') {
        io.stderr.write(`fathom tap: ${line.message}\n`);
        continue;
      }
      const text = args.output === 'json' ? JSON.stringify(line) : formatTapLine(line, wideKind);
      // Waiting for a slow reader holds the stream back; the controller drops what it cannot send.
      if (!io.stdout.write(text + '\n')) await Promise.race([once(io.stdout, 'drain'), once(stop.signal, 'abort')]).catch(() => undefined);
      if (stop.signal.aborted) break;
    }
    return stop.signal.aborted ? EXIT_OK : EXIT_FAILURE;
  } finally {
    stop.dispose();
  }
}

export const command = defineCommand<TapArgs>({
  name: 'tap',
  description:
    'Stream the live requests of a resource: one line when a request starts (req), when its response starts (rsp) and when it ends (end), ' +
    "as Linkerd's tap prints them. RESOURCE is deploy, pod, ns or svc, with /NAME (deploy and pod may omit it for all of the namespace). " +
    'At most --max-rps requests per second are reported, shared among the pods. Stops on Ctrl-C.',
  examples: ['fathom tap deploy/web -n nodevoto', 'fathom tap deploy/web -n nodevoto --to deploy/voting --path /fathom.Voting/', 'fathom tap pod/web-5d9c-x2x7q -n nodevoto -o json'],
  operands: [
    { name: 'resource', description: 'deploy, pod, ns or svc, optionally /NAME' },
    { name: 'name', description: 'the name, as an alternative to RESOURCE/NAME', optional: true },
  ],
  options: [...FILTER_OPTIONS, { flags: '-o, --output <format>', description: 'wide (adds the resources of both sides) or json (one object per line)' }],
  bind: (operands, flags) => ({ ...bindFilters(operands, flags), output: parseOutputFormat(stringFlag(flags, 'output'), ['table', 'wide', 'json']) as TapArgs['output'] }),
  run,
});
