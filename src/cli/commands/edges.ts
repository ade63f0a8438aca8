// `fathom edges`: which deployments (or pods) hold connections open to which, and whether each edge is
// secured by mutual TLS, with the identities on both ends in wide output.
import { parseResource } from '../../controller/metrics-api/resources.js';
import type { EdgeRow, EdgesResponse } from '../../controller/metrics-api/types.js';
import { ApiClient, API_OPTIONS, type ApiFlags } from '../api-client.js';
import { defineCommand, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import { useColour, type CommandIO } from '../io.js';
import { parseOutputFormat, renderStructured } from '../output.js';
import { renderTable, type Column } from '../table.js';
import { NAMESPACE_OPTION, OUTPUT_OPTION } from './stat.js';

export interface EdgesArgs extends ApiFlags {
  readonly kind: 'deploy' | 'pod';
  readonly namespace: string | undefined;
  readonly allNamespaces: boolean;
  readonly output: 'table' | 'wide' | 'json';
}

/** `√` for mutual TLS, else the proxy's reason (as Linkerd's SECURED column). */
export const SECURED = '√';

function columns(wide: boolean): Column<EdgeRow>[] {
  const out: Column<EdgeRow>[] = [
    { header: 'src', value: (r) => r.src },
    { header: 'dst', value: (r) => r.dst },
    { header: 'src_ns', value: (r) => r.src_namespace },
    { header: 'dst_ns', value: (r) => r.dst_namespace },
    { header: 'secured', value: (r) => (r.secured ? SECURED : (r.no_tls_reason ?? '-')), colour: (r) => (r.secured ? 'green' : 'yellow') },
  ];
  if (wide) out.push({ header: 'client_id', value: (r) => r.client_id ?? '-' }, { header: 'server_id', value: (r) => r.server_id ?? '-' });
  return out;
}

export async function run(args: EdgesArgs, io: CommandIO): Promise<number> {
  const res = await ApiClient.for(args, io).get<EdgesResponse>('/api/v1/edges', {
    resource: args.kind,
    namespace: args.namespace,
    'all-namespaces': args.allNamespaces,
  });
  if (args.output === 'json') {
    io.stdout.write(renderStructured(res.rows, 'json'));
    return EXIT_OK;
  }
  if (res.rows.length === 0) {
    io.stderr.write('No edges found.\n');
    return EXIT_OK;
  }
  io.stdout.write(renderTable(columns(args.output === 'wide'), res.rows, { colour: useColour(io) }));
  return EXIT_OK;
}

export const command = defineCommand<EdgesArgs>({
  name: 'edges',
  description: 'Connections open between deployments (or pods), and whether each is secured by mutual TLS (√) or why not.',
  examples: ['fathom edges deploy -n nodevoto', 'fathom edges pod -A -o wide'],
  operands: [{ name: 'kind', description: 'deploy or pod' }],
  options: [NAMESPACE_OPTION, { flags: '-A, --all-namespaces', description: 'edges from every namespace' }, OUTPUT_OPTION, ...API_OPTIONS],
  bind: (operands, flags: FlagValues) => {
    const ref = parseResource(operands[0]!);
    if (typeof ref === 'string' || (ref.kind !== 'deployment' && ref.kind !== 'pod') || ref.name !== undefined) {
      throw new UsageError(`"${operands[0]}": edges are between deployments or pods: expected deploy or pod`);
    }
    return {
      kind: ref.kind === 'deployment' ? 'deploy' : 'pod',
      namespace: stringFlag(flags, 'namespace'),
      allNamespaces: flags['allNamespaces'] === true,
      output: parseOutputFormat(stringFlag(flags, 'output'), ['table', 'wide', 'json']) as EdgesArgs['output'],
      apiAddr: stringFlag(flags, 'apiAddr'),
      stateDir: stringFlag(flags, 'stateDir'),
    };
  },
  run,
});
