// `fathom get pods|deploy|svc|ns [NAME] [-n NS | -A] [-o wide|json|yaml]`: lists the local platform's
// objects with kubectl's columns, or as a kubectl-style `v1 List`.
import { openLocal, STATE_DIR_HELP } from '../../platform/local/client.js';
import { BUILTIN_NAMESPACES } from '../../platform/local/objects.js';
import { loadSnapshot, type Snapshot } from '../../platform/local/snapshot.js';
import { age, deploymentCounts, deploymentJson, podJson, podRow, selectorText, servicePorts, type PodRow } from '../../platform/local/views.js';
import { defineCommand, EXIT_FAILURE, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import { useColour, type CommandIO } from '../io.js';
import { parseOutputFormat, renderStructured, type OutputFormat } from '../output.js';
import { renderTable, type Column } from '../table.js';

type Resource = 'pods' | 'deployments' | 'services' | 'namespaces';

const RESOURCES: Readonly<Record<string, Resource>> = {
  po: 'pods', pod: 'pods', pods: 'pods',
  deploy: 'deployments', deployment: 'deployments', deployments: 'deployments',
  svc: 'services', service: 'services', services: 'services',
  ns: 'namespaces', namespace: 'namespaces', namespaces: 'namespaces',
};

export interface GetArgs {
  readonly resource: Resource;
  readonly name: string | undefined;
  readonly namespace: string;
  readonly allNamespaces: boolean;
  readonly output: OutputFormat;
  readonly stateDir: string | undefined;
}

interface Listed {
  readonly rows: readonly Record<string, string>[];
  readonly items: readonly object[];
}

function list(args: GetArgs, snap: Snapshot, now: number): Listed {
  const inScope = (ns: string | undefined, name: string) =>
    (args.allNamespaces || ns === args.namespace) && (args.name === undefined || name === args.name);
  switch (args.resource) {
    case 'pods': {
      const pods = snap.pods.filter((p) => inScope(p.record.namespace, p.record.name)).sort((a, b) => a.record.namespace.localeCompare(b.record.namespace) || a.record.name.localeCompare(b.record.name));
      const rows = pods.map((p) => podRow(p, now)).map((r: PodRow) => ({ ...r, restarts: String(r.restarts), meshed: r.meshed ? 'yes' : 'no', node: 'local' }));
      return { rows, items: pods.map(podJson) };
    }
    case 'deployments': {
      const ds = snap.deployments.filter((d) => inScope(d.metadata.namespace, d.metadata.name));
      const rows = ds.map((d) => {
        const c = deploymentCounts(d, snap);
        const containers = d.spec.template.spec.containers;
        return {
          namespace: d.metadata.namespace ?? '', name: d.metadata.name, ready: `${c.ready}/${d.spec.replicas}`, upToDate: String(c.updated),
          available: String(c.available), age: age(d.metadata.creationTimestamp, now), containers: containers.map((x) => x.name).join(','),
          images: containers.map((x) => x.image ?? '<none>').join(','), selector: selectorText(d.spec.selector.matchLabels),
        };
      });
      return { rows, items: ds.map((d) => deploymentJson(d, snap)) };
    }
    case 'services': {
      const ss = snap.services.filter((s) => inScope(s.metadata.namespace, s.metadata.name));
      const rows = ss.map((s) => ({
        namespace: s.metadata.namespace ?? '', name: s.metadata.name, type: s.spec.type, clusterIp: s.spec.clusterIP, externalIp: '<none>',
        ports: servicePorts(s), age: age(s.metadata.creationTimestamp, now), selector: selectorText(s.spec.selector),
      }));
      return { rows, items: ss };
    }
    case 'namespaces': {
      const stored = snap.namespaces.map((n) => ({ name: n.metadata.name, created: n.metadata.creationTimestamp, object: n as object }));
      const builtin = BUILTIN_NAMESPACES.filter((n) => !stored.some((s) => s.name === n)).map((name) => ({ name, created: '', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as object }));
      const all = [...builtin, ...stored].filter((n) => args.name === undefined || n.name === args.name);
      return { rows: all.map((n) => ({ name: n.name, status: 'Active', age: n.created ? age(n.created, now) : '-' })), items: all.map((n) => n.object) };
    }
  }
}

function columns(args: GetArgs): Column<Record<string, string>>[] {
  const col = (header: string, key: string, align?: 'right'): Column<Record<string, string>> => ({ header, value: (r) => r[key] ?? '', ...(align ? { align } : {}) });
  const wide = args.output === 'wide';
  const byResource: Record<Resource, Column<Record<string, string>>[]> = {
    pods: [col('NAME', 'name'), col('READY', 'ready'), col('STATUS', 'status'), col('RESTARTS', 'restarts'), col('AGE', 'age'), col('IP', 'ip'), ...(wide ? [col('NODE', 'node'), col('MESHED', 'meshed')] : [])],
    deployments: [col('NAME', 'name'), col('READY', 'ready'), col('UP-TO-DATE', 'upToDate'), col('AVAILABLE', 'available'), col('AGE', 'age'), ...(wide ? [col('CONTAINERS', 'containers'), col('IMAGES', 'images'), col('SELECTOR', 'selector')] : [])],
    services: [col('NAME', 'name'), col('TYPE', 'type'), col('CLUSTER-IP', 'clusterIp'), col('EXTERNAL-IP', 'externalIp'), col('PORT(S)', 'ports'), col('AGE', 'age'), ...(wide ? [col('SELECTOR', 'selector')] : [])],
    namespaces: [col('NAME', 'name'), col('STATUS', 'status'), col('AGE', 'age')],
  };
  const base = byResource[args.resource];
  return args.allNamespaces && args.resource !== 'namespaces' ? [col('NAMESPACE', 'namespace'), ...base] : base;
}

export async function run(args: GetArgs, io: CommandIO): Promise<number> {
  const config = openLocal(args.stateDir, io);
  const { rows, items } = list(args, loadSnapshot(config.stateDir), Date.now());
  if (args.name !== undefined && items.length === 0) {
    io.stderr.write(`fathom get: ${args.resource} "${args.name}" not found${args.resource === 'namespaces' ? '' : ` in namespace "${args.namespace}"`}\n`);
    return EXIT_FAILURE;
  }
  if (args.output === 'json' || args.output === 'yaml') {
    const value = args.name !== undefined && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
    io.stdout.write(renderStructured(value, args.output));
    return EXIT_OK;
  }
  if (rows.length === 0) {
    io.stderr.write(args.allNamespaces || args.resource === 'namespaces' ? 'No resources found\n' : `No resources found in ${args.namespace} namespace.\n`);
    return EXIT_OK;
  }
  io.stdout.write(renderTable(columns(args), rows, { colour: useColour(io) }));
  return EXIT_OK;
}

function bind(operands: readonly string[], flags: FlagValues): GetArgs {
  const [type, name] = operands;
  const [kind, slashName] = (type ?? '').split('/');
  const resource = RESOURCES[kind ?? ''];
  if (!resource) throw new UsageError(`unknown resource type "${type ?? ''}": expected pods, deploy, svc or ns`);
  if (slashName !== undefined && name !== undefined) throw new UsageError('give the name once: TYPE NAME or TYPE/NAME');
  return {
    resource,
    name: slashName ?? name,
    namespace: stringFlag(flags, 'namespace') ?? 'default',
    allNamespaces: flags['allNamespaces'] === true,
    output: parseOutputFormat(stringFlag(flags, 'output'), ['table', 'wide', 'json', 'yaml']),
    stateDir: stringFlag(flags, 'stateDir'),
  };
}

export const command = defineCommand<GetArgs>({
  name: 'get',
  description: 'List pods, deployments, services or namespaces of the local platform, with kubectl\'s columns or as JSON/YAML.',
  examples: ['fathom get pods', 'fathom get deploy -A -o wide', 'fathom get pods -n demo -o json'],
  operands: [
    { name: 'type', description: 'pods (po), deploy, svc or ns; TYPE/NAME names one object' },
    { name: 'name', description: 'one object', optional: true },
  ],
  options: [
    { flags: '-n, --namespace <ns>', description: 'namespace (default "default")' },
    { flags: '-A, --all-namespaces', description: 'every namespace' },
    { flags: '-o, --output <format>', description: 'wide, json or yaml' },
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
  ],
  bind,
  run,
});
