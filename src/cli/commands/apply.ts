// `fathom apply -f FILE|-`: creates or updates the objects of a Kubernetes manifest (Namespace,
// ServiceAccount, Deployment, Service, ServiceProfile) on the local platform, like `kubectl apply`. A
// changed pod template rolls the Deployment's pods; relative command paths and workingDir resolve
// against the file's directory (the current directory for stdin).
import { dirname, resolve } from 'node:path';
import { FathomError } from '../../lib/errors.js';
import { openLocal, STATE_DIR_HELP } from '../../platform/local/client.js';
import { objectsFromManifest } from '../../platform/local/manifest.js';
import { RESOURCE_NAMES, SOURCE_DIR_ANNOTATION } from '../../platform/local/objects.js';
import { ObjectStore } from '../../platform/local/store.js';
import { defineCommand, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import { readInput, type CommandIO } from '../io.js';
import { kubernetesObjects, parseYamlStream } from '../yaml-docs.js';

export interface ApplyArgs {
  readonly file: string;
  readonly namespace: string;
  readonly stateDir: string | undefined;
}

/** The manifest's objects as plain data; shared with `delete`. */
export async function readManifest(file: string, io: CommandIO): Promise<{ raw: unknown[]; name: string; sourceDir: string }> {
  const input = await readInput(file, io);
  const parsed = parseYamlStream(input.text, input.name);
  if (!parsed.ok) throw new FathomError('EINPUT', parsed.message);
  const raw = parsed.stream.docs.flatMap(({ doc }) => kubernetesObjects(doc).map((node) => node.toJSON() as unknown));
  const sourceDir = file === '-' ? io.cwd : dirname(resolve(io.cwd, file));
  return { raw, name: input.name, sourceDir };
}

export async function run(args: ApplyArgs, io: CommandIO): Promise<number> {
  const config = openLocal(args.stateDir, io);
  const manifest = await readManifest(args.file, io);
  const objects = objectsFromManifest(manifest.raw, args.namespace, manifest.sourceDir, manifest.name);
  const store = new ObjectStore(config);
  if (args.file === '-') keepSourceDirs(objects, store);
  const outcomes = await store.apply(objects);
  objects.forEach((o, i) => io.stdout.write(`${RESOURCE_NAMES[o.kind]}/${o.metadata.name} ${outcomes[i]}\n`));
  return EXIT_OK;
}

/**
 * A manifest from stdin has no directory of its own. `fathom inject app.yaml | fathom apply -f -` re-applies
 * what was first applied from app.yaml, so a Deployment that exists keeps the directory its relative paths
 * resolved against; only new ones take the current directory.
 */
function keepSourceDirs(objects: ReturnType<typeof objectsFromManifest>, store: ObjectStore): void {
  for (const o of objects) {
    if (o.kind !== 'Deployment') continue;
    const previous = store.get('Deployment', o.metadata.namespace, o.metadata.name)?.metadata.annotations?.[SOURCE_DIR_ANNOTATION];
    if (previous !== undefined) o.metadata.annotations = { ...o.metadata.annotations, [SOURCE_DIR_ANNOTATION]: previous };
  }
}

function bind(_operands: readonly string[], flags: FlagValues): ApplyArgs {
  const file = stringFlag(flags, 'filename');
  if (file === undefined) throw new UsageError('-f FILE is required (- reads stdin)');
  return { file, namespace: stringFlag(flags, 'namespace') ?? 'default', stateDir: stringFlag(flags, 'stateDir') };
}

export const command = defineCommand<ApplyArgs>({
  name: 'apply',
  description:
    'Create or update the objects in a Kubernetes manifest on the local platform: Namespace, ServiceAccount, ' +
    'Deployment, Service and ServiceProfile, several documents per file. A changed pod template rolls the pods. ' +
    "Relative command paths and workingDir resolve against the file's directory (for stdin: the directory a Deployment was first applied from, else the current one).",
  examples: ['fathom apply -f app.yaml', 'fathom inject app.yaml | fathom apply -f -'],
  operands: [],
  options: [
    { flags: '-f, --filename <file>', description: 'the manifest; - reads stdin' },
    { flags: '-n, --namespace <ns>', description: 'namespace of objects that name none (default "default")' },
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
  ],
  bind,
  run,
});
