// `fathom delete -f FILE|-` or `fathom delete TYPE NAME...`: removes objects from the local platform, like
// `kubectl delete`; a Deployment's pods stop, a Namespace takes everything in it along.
import { FathomError } from '../../lib/errors.js';
import { openLocal, STATE_DIR_HELP } from '../../platform/local/client.js';
import { objectsFromManifest } from '../../platform/local/manifest.js';
import { RESOURCE_NAMES, type Kind } from '../../platform/local/objects.js';
import { ObjectStore } from '../../platform/local/store.js';
import { defineCommand, EXIT_FAILURE, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';
import { readManifest } from './apply.js';

interface Ref {
  readonly kind: Kind;
  readonly namespace: string | undefined;
  readonly name: string;
}

export interface DeleteArgs {
  readonly file: string | undefined;
  readonly type: string | undefined;
  readonly names: readonly string[];
  readonly namespace: string;
  readonly ignoreNotFound: boolean;
  readonly stateDir: string | undefined;
}

const TYPES: Readonly<Record<string, Kind>> = {
  deployment: 'Deployment', deployments: 'Deployment', deploy: 'Deployment',
  service: 'Service', services: 'Service', svc: 'Service',
  namespace: 'Namespace', namespaces: 'Namespace', ns: 'Namespace',
  serviceaccount: 'ServiceAccount', serviceaccounts: 'ServiceAccount', sa: 'ServiceAccount',
  serviceprofile: 'ServiceProfile', serviceprofiles: 'ServiceProfile', sp: 'ServiceProfile',
};

export async function run(args: DeleteArgs, io: CommandIO): Promise<number> {
  const config = openLocal(args.stateDir, io);
  let refs: Ref[];
  if (args.file !== undefined) {
    const manifest = await readManifest(args.file, io);
    refs = objectsFromManifest(manifest.raw, args.namespace, manifest.sourceDir, manifest.name)
      .map((o) => ({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }))
      .reverse();
  } else {
    const kind = TYPES[args.type ?? ''];
    if (!kind) throw new FathomError('EINVALID', `unknown type "${args.type}": expected deploy, svc, ns, sa or serviceprofile`);
    refs = args.names.map((name) => ({ kind, namespace: kind === 'Namespace' ? undefined : args.namespace, name }));
  }
  const existed = await new ObjectStore(config).delete(refs);
  let missing = false;
  refs.forEach((ref, i) => {
    if (existed[i]) io.stdout.write(`${RESOURCE_NAMES[ref.kind]} "${ref.name}" deleted\n`);
    else if (!args.ignoreNotFound) {
      missing = true;
      io.stderr.write(`fathom delete: ${RESOURCE_NAMES[ref.kind]} "${ref.name}" not found\n`);
    }
  });
  return missing ? EXIT_FAILURE : EXIT_OK;
}

function bind(operands: readonly string[], flags: FlagValues): DeleteArgs {
  const file = stringFlag(flags, 'filename');
  const [type, ...names] = operands;
  if (file === undefined && (type === undefined || names.length === 0)) throw new UsageError('give -f FILE, or a type and names (fathom delete deploy web)');
  if (file !== undefined && type !== undefined) throw new UsageError('give either -f FILE or a type and names, not both');
  return {
    file,
    type,
    names,
    namespace: stringFlag(flags, 'namespace') ?? 'default',
    ignoreNotFound: flags['ignoreNotFound'] === true,
    stateDir: stringFlag(flags, 'stateDir'),
  };
}

export const command = defineCommand<DeleteArgs>({
  name: 'delete',
  description: "Delete objects from the local platform, named by a manifest or by type and name. A Deployment's pods stop; a Namespace takes its objects along.",
  examples: ['fathom delete -f app.yaml', 'fathom delete deploy web -n demo'],
  operands: [
    { name: 'type', description: 'deploy, svc, ns, sa or serviceprofile', optional: true },
    { name: 'names', description: 'names of the objects', optional: true, variadic: true },
  ],
  options: [
    { flags: '-f, --filename <file>', description: 'the manifest whose objects to delete; - reads stdin' },
    { flags: '-n, --namespace <ns>', description: 'namespace (default "default")' },
    { flags: '--ignore-not-found', description: 'objects that do not exist are not an error' },
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
  ],
  bind,
  run,
});
