// `fathom routes`: success rate, RPS and latency per route of what a deployment, pod or service serves
// (or sends --to a service); until service profiles define routes, every request is in [DEFAULT].
import type { RouteRow, RoutesResponse } from '../../controller/metrics-api/types.js';
import { ApiClient, API_OPTIONS, type ApiFlags } from '../api-client.js';
import { defineCommand, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import { useColour, type CommandIO } from '../io.js';
import { parseOutputFormat, renderStructured } from '../output.js';
import { renderTable, type Column } from '../table.js';
import { checkedResourceFlag, formatLatency, formatRps, formatSuccess, NAMESPACE_OPTION, resourceOperand, successColour, windowFlag, WINDOW_OPTION } from './stat.js';

export interface RoutesArgs extends ApiFlags {
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly to: string | undefined;
  readonly toNamespace: string | undefined;
  readonly window: string;
  readonly output: 'table' | 'json';
}

function columns(source: RoutesResponse['source']): Column<RouteRow>[] {
  return [
    { header: 'route', value: (r) => r.route },
    // Per-route metrics name the service (`dst`); without them the rows are per authority.
    { header: source === 'route_response_total' ? 'service' : 'authority', value: (r) => r.authority },
    { header: 'success', value: (r) => formatSuccess(r.success), align: 'right', colour: (r) => successColour(r.success) },
    { header: 'rps', value: (r) => formatRps(r.rps), align: 'right' },
    { header: 'latency_p50', value: (r) => formatLatency(r.latency_ms_p50), align: 'right' },
    { header: 'latency_p95', value: (r) => formatLatency(r.latency_ms_p95), align: 'right' },
    { header: 'latency_p99', value: (r) => formatLatency(r.latency_ms_p99), align: 'right' },
  ];
}

export async function run(args: RoutesArgs, io: CommandIO): Promise<number> {
  const res = await ApiClient.for(args, io).get<RoutesResponse>('/api/v1/routes', {
    resource: args.resource,
    namespace: args.namespace,
    to: args.to,
    'to-namespace': args.toNamespace,
    window: args.window,
  });
  if (args.output === 'json') {
    io.stdout.write(renderStructured(res.rows, 'json'));
    return EXIT_OK;
  }
  if (res.rows.length === 0) {
    io.stderr.write('No traffic found.\n');
    return EXIT_OK;
  }
  io.stdout.write(renderTable(columns(res.source), res.rows, { colour: useColour(io) }));
  return EXIT_OK;
}

export const command = defineCommand<RoutesArgs>({
  name: 'routes',
  description:
    'Success rate, requests per second and latency per route of the traffic a deploy, pod or svc receives, ' +
    'or sends --to a service. Requests that match no route of a service profile are in [DEFAULT].',
  examples: ['fathom routes deploy/web -n nodevoto', 'fathom routes svc/web-svc -n nodevoto', 'fathom routes deploy/web -n nodevoto --to svc/voting-svc'],
  operands: [
    { name: 'resource', description: 'deploy/NAME, pod/NAME or svc/NAME' },
    { name: 'name', description: 'the name, as an alternative to RESOURCE/NAME', optional: true },
  ],
  options: [
    NAMESPACE_OPTION,
    { flags: '--to <resource>', description: 'only requests to this service (svc/NAME)' },
    { flags: '--to-namespace <ns>', description: 'namespace of --to (default: -n)' },
    WINDOW_OPTION,
    { flags: '-o, --output <format>', description: 'json; a table by default' },
    ...API_OPTIONS,
  ],
  bind: (operands, flags: FlagValues) => {
    const resource = resourceOperand(operands);
    if (!resource.includes('/')) throw new UsageError(`"${resource}": routes needs one resource by name, such as deploy/web`);
    return {
      resource,
      namespace: stringFlag(flags, 'namespace'),
      to: checkedResourceFlag(flags, 'to', '--to'),
      toNamespace: stringFlag(flags, 'toNamespace'),
      window: windowFlag(flags),
      output: parseOutputFormat(stringFlag(flags, 'output'), ['table', 'json']) as RoutesArgs['output'],
      apiAddr: stringFlag(flags, 'apiAddr'),
      stateDir: stringFlag(flags, 'stateDir'),
    };
  },
  run,
});
