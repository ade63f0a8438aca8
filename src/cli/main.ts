// The `fathom` entry point: builds the command-line parser from the command registry, runs the chosen
// command's core with the process's streams, and turns every failure into one line and an exit code.
import { Command as Program, CommanderError } from 'commander';
import { FathomError } from '../lib/errors.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type Command, type FlagValues } from './command.js';
import { commands } from './commands/index.js';
import { processIO, type CommandIO } from './io.js';
import { packageInfo } from './package-info.js';

/** Called by bin/fathom with the arguments after the program name. */
export async function main(argv: string[]): Promise<void> {
  process.exitCode = await runCli(argv, processIO());
}

interface Selection {
  readonly command: Command;
  readonly operands: readonly string[];
  readonly flags: FlagValues;
}

/** Parses `argv` and runs the command it names; resolves to the exit code. Tests call this directly. */
export async function runCli(argv: readonly string[], io: CommandIO): Promise<number> {
  let selected: Selection | undefined;
  const program = await buildProgram(argv, io, (selection) => (selected = selection));
  if (argv.length === 0) {
    // Like linkerd and kubectl: no command shows the help, and that is not an error.
    program.outputHelp();
    return EXIT_OK;
  }
  const [first, second] = argv;
  if (first === 'help' && second !== undefined && !commands.some((entry) => entry.name === second)) {
    // Commander would print the whole help as an error; a wrong command name deserves one line.
    io.stderr.write(`fathom: unknown command '${second}'; see 'fathom --help'\n`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    // Commander has already printed its message through outputError; help and --version exit 0.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw err;
  }
  if (!selected) return EXIT_OK;
  const prefix = `fathom ${selected.command.name}`;
  try {
    return await selected.command.invoke(selected.operands, selected.flags, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${prefix}: ${err.message}; see '${prefix} --help'\n`);
      return EXIT_USAGE;
    }
    // A FathomError is an expected failure with a message written for users; anything else is a bug,
    // and its stack is what a bug report needs.
    const text = err instanceof FathomError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr.write(`${prefix}: ${text}\n`);
    return EXIT_FAILURE;
  }
}

/**
 * The command named on the command line, or after `help`. Only that command's module is loaded; the
 * others are listed by their registry summary. This holds while `fathom` has no global flag taking a
 * value: the first operand is always the command.
 */
function requestedCommand(argv: readonly string[]): string | undefined {
  const operands = argv.filter((arg) => !arg.startsWith('-'));
  return operands[0] === 'help' ? operands[1] : operands[0];
}

async function buildProgram(argv: readonly string[], io: CommandIO, select: (s: Selection) => void): Promise<Program> {
  const program = new Program('fathom')
    .description('Fathom: a zero-config service mesh. Observability, reliability and mTLS for any app, with no code change.')
    .version(packageInfo().version, '--version', 'print the CLI version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput(outputFor('fathom', io))
    .showSuggestionAfterError(true);
  program.helpCommand('help [command]', 'show help for a command');

  const wanted = requestedCommand(argv);
  for (const entry of commands) {
    const sub = program.command(entry.name).summary(entry.summary).description(entry.summary);
    if (entry.name !== wanted) {
      sub.action(() => {
        throw new Error(`internal: command ${entry.name} was not loaded`);
      });
      continue;
    }
    const { command } = await entry.load();
    defineSubcommand(sub, command, io, select);
  }
  return program;
}

function defineSubcommand(sub: Program, command: Command, io: CommandIO, select: (s: Selection) => void): void {
  if (command.description) sub.description(command.description);
  sub.configureOutput(outputFor(`fathom ${command.name}`, io));
  for (const operand of command.operands) {
    const name = operand.name + (operand.variadic ? '...' : '');
    sub.argument(operand.optional ? `[${name}]` : `<${name}>`, operand.description);
  }
  for (const option of command.options) sub.option(option.flags, option.description, option.defaultValue);
  if (command.examples.length > 0) sub.addHelpText('after', `\nExamples:\n${command.examples.map((e) => `  ${e}`).join('\n')}\n`);
  sub.action((...args: unknown[]) => {
    const self = args[args.length - 1] as Program;
    select({ command, operands: self.args, flags: self.opts() });
  });
}

/** Routes commander's output to the command's streams, and folds its errors into one line. */
function outputFor(prefix: string, io: CommandIO) {
  return {
    writeOut: (text: string) => void io.stdout.write(text),
    writeErr: (text: string) => void io.stderr.write(text),
    outputError: (text: string, write: (text: string) => void) => {
      const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
      const message = lines.join(' ').replace(/^error: /, '').replace(/\(Did you/, '(did you').replace(/\.$/, '');
      write(`${prefix}: ${message}; see '${prefix} --help'\n`);
    },
  };
}
