// The shape of a CLI command, as linkerd2's CLI has it: operands and flags for the parser, a bind step
// that turns flag values into typed arguments, and a `run(args, io) → exit code` core that tests call
// without a process.
import { FathomError } from '../lib/errors.js';
import type { CommandIO } from './io.js';

export const EXIT_OK = 0;
/** The command ran and failed: bad input, an unreachable platform, a failed check. */
export const EXIT_FAILURE = 1;
/** The command line itself is wrong: unknown command or flag, missing operand, invalid flag value. */
export const EXIT_USAGE = 2;

export interface OperandSpec {
  /** Shown in usage, e.g. `file`. */
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
  readonly variadic?: boolean;
}

export interface OptionSpec {
  /** Commander flag syntax: `--proxy-log-level <level>`, `-o, --output <format>`, `--short`. */
  readonly flags: string;
  readonly description: string;
  readonly defaultValue?: string | boolean;
}

/** Flag values keyed by camel-cased long name (`--proxy-log-level` → `proxyLogLevel`). */
export type FlagValues = Readonly<Record<string, unknown>>;

export interface CommandSpec<A> {
  readonly name: string;
  /** Longer help for `fathom NAME --help`; the one-line summary lives in the registry. */
  readonly description?: string;
  readonly examples?: readonly string[];
  readonly operands: readonly OperandSpec[];
  readonly options: readonly OptionSpec[];
  /** Validates and types the parsed command line; throws UsageError for invalid values. */
  bind(operands: readonly string[], flags: FlagValues): A;
  run(args: A, io: CommandIO): Promise<number>;
}

/** A command with its argument type erased, as the registry and main hold it. */
export interface Command {
  readonly name: string;
  readonly description: string | undefined;
  readonly examples: readonly string[];
  readonly operands: readonly OperandSpec[];
  readonly options: readonly OptionSpec[];
  invoke(operands: readonly string[], flags: FlagValues, io: CommandIO): Promise<number>;
}

export function defineCommand<A>(spec: CommandSpec<A>): Command {
  return {
    name: spec.name,
    description: spec.description,
    examples: spec.examples ?? [],
    operands: spec.operands,
    options: spec.options,
    invoke: (operands, flags, io) => spec.run(spec.bind(operands, flags), io),
  };
}

/** A wrong command line; main prints it as one line and exits with EXIT_USAGE. */
export class UsageError extends FathomError {
  constructor(message: string) {
    super('EUSAGE', message);
    this.name = 'UsageError';
  }
}

/** Reads an optional string flag (commander leaves absent flags undefined). */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}
