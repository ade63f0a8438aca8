// `fathom uninject FILE|-`: prints Kubernetes YAML with the mesh annotations removed from every pod
// template (`fathom.io/inject` and `config.fathom.io/*`), the reverse of `fathom inject`.
import { defineCommand } from '../command.js';
import type { CommandIO } from '../io.js';
import { editManifest } from '../manifest-edit.js';
import { uninjectWorkload } from '../mesh-annotations.js';

export interface UninjectArgs {
  /** A path, or `-` for stdin. */
  readonly file: string;
}

export async function run(args: UninjectArgs, io: CommandIO): Promise<number> {
  return editManifest({ command: 'uninject', file: args.file, done: 'uninjected', edit: (_doc, workload) => uninjectWorkload(workload) }, io);
}

export const command = defineCommand<UninjectArgs>({
  name: 'uninject',
  description:
    'Remove the fathom.io/* and config.fathom.io/* annotations from the pod template of each workload in FILE ' +
    'and print the YAML to stdout; an explicit fathom.io/inject: disabled stays. A report goes to stderr.',
  examples: ['fathom uninject app.yaml | fathom apply -f -'],
  operands: [{ name: 'file', description: 'Kubernetes YAML to uninject; - reads stdin' }],
  options: [],
  bind: (operands) => ({ file: operands[0] ?? '-' }),
  run,
});
