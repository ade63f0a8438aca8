// The shared core of `inject` and `uninject`: read a manifest, edit each workload's pod template, print
// the YAML to stdout and one report line per workload to stderr.
import type { Document } from 'yaml';
import { FathomError } from '../lib/errors.js';
import { EXIT_FAILURE, EXIT_OK } from './command.js';
import { readInput, type CommandIO } from './io.js';
import type { EditOutcome } from './mesh-annotations.js';
import { WORKLOAD_KINDS, workloadOf, type Workload } from './workloads.js';
import { kubernetesObjects, parseYamlStream, renderYamlStream } from './yaml-docs.js';

export type WorkloadEdit = (doc: Document, workload: Workload) => EditOutcome;

export interface ReportEntry {
  readonly kind: string;
  readonly name: string;
  readonly outcome: EditOutcome;
}

export interface ManifestEdit {
  /** `inject` or `uninject`, naming the command in error messages. */
  readonly command: string;
  /** The file operand; `-` is stdin. */
  readonly file: string;
  /** What the report says of an edited workload. */
  readonly done: 'injected' | 'uninjected';
  readonly edit: WorkloadEdit;
}

/**
 * Runs the edit over every workload of the file. On any input error nothing reaches stdout (a pipe
 * into `kubectl apply` gets no half manifest) and the result is EXIT_FAILURE.
 */
export async function editManifest(spec: ManifestEdit, io: CommandIO): Promise<number> {
  const fail = (message: string) => {
    io.stderr.write(`fathom ${spec.command}: ${message}\n`);
    return EXIT_FAILURE;
  };
  let input;
  try {
    input = await readInput(spec.file, io);
  } catch (err) {
    if (err instanceof FathomError) return fail(err.message);
    throw err;
  }
  const parsed = parseYamlStream(input.text, input.name);
  if (!parsed.ok) return fail(parsed.message);

  const changed = new Set<Document>();
  const entries: ReportEntry[] = [];
  for (const { doc } of parsed.stream.docs) {
    for (const object of kubernetesObjects(doc)) {
      const workload = workloadOf(object);
      if (!workload) continue; // Services, Namespaces, ConfigMaps... pass through untouched
      const outcome = spec.edit(doc, workload);
      entries.push({ kind: workload.kind, name: workload.name, outcome });
      if (outcome.result !== 'skipped') changed.add(doc);
    }
  }
  io.stdout.write(renderYamlStream(parsed.stream, changed));
  // On a terminal stdout and stderr interleave: a blank line keeps the report apart from the YAML.
  io.stderr.write((io.isTTY ? '\n' : '') + formatReport(entries, spec.done));
  return EXIT_OK;
}

/** One line per workload (`deployment "web" injected`, `... skipped: reason`), then a summary line. */
export function formatReport(entries: readonly ReportEntry[], done: 'injected' | 'uninjected'): string {
  if (entries.length === 0) {
    const kinds = `${WORKLOAD_KINDS.slice(0, -1).join(', ')} and ${WORKLOAD_KINDS.at(-1)}`;
    return `no workloads found: only ${kinds} objects have pods to ${done === 'injected' ? 'mesh' : 'unmesh'}\n`;
  }
  const lines = entries.map(({ kind, name, outcome }) =>
    outcome.result === 'skipped' ? `${kind} "${name}" skipped: ${outcome.reason}` : `${kind} "${name}" ${outcome.result}`,
  );
  const edited = entries.filter((entry) => entry.outcome.result !== 'skipped').length;
  const skipped = entries.length - edited;
  lines.push(`${edited} workload${edited === 1 ? '' : 's'} ${done}${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  return lines.join('\n') + '\n';
}
