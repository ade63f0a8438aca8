// `fathom version`: prints the CLI's version, from the package it was installed from.
import { defineCommand, EXIT_OK, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';
import { packageInfo } from '../package-info.js';

export interface VersionArgs {
  /** Print the bare version number, for scripts. */
  readonly short: boolean;
}

export async function run(args: VersionArgs, io: CommandIO): Promise<number> {
  const { version } = packageInfo();
  // linkerd prints "Client version: ..." too; a "Server version" line joins it once the CLI can reach
  // a control plane.
  io.stdout.write(args.short ? `${version}\n` : `Client version: ${version}\n`);
  return EXIT_OK;
}

export const command = defineCommand<VersionArgs>({
  name: 'version',
  operands: [],
  options: [{ flags: '--short', description: 'print the version number only' }],
  bind: (_operands, flags: FlagValues) => ({ short: flags['short'] === true }),
  run,
});
