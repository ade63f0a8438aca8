// The `-o/--output` formats shared by commands that print objects: a table (optionally wide), or the
// objects themselves as JSON or YAML for scripts.
import { stringify } from 'yaml';
import { UsageError } from './command.js';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

/** Parses an `-o` value; absent means `table`. Throws UsageError listing what the command accepts. */
export function parseOutputFormat(value: string | undefined, allowed: readonly OutputFormat[]): OutputFormat {
  const format = value ?? 'table';
  if ((allowed as readonly string[]).includes(format)) return format as OutputFormat;
  const listed = allowed.filter((f) => f !== 'table');
  throw new UsageError(`invalid output format "${format}": expected ${listed.join(', ')} or no -o for a table`);
}

/** JSON indented by 4 spaces like kubectl; YAML with sequences at their key's column, like kubectl. */
export function renderStructured(value: unknown, format: 'json' | 'yaml'): string {
  if (format === 'json') return JSON.stringify(value, null, 4) + '\n';
  return stringify(value, { indentSeq: false, lineWidth: 0 });
}
