// `fathom down`: stops the local platform: deletes every pod, stops the agent, controller and Prometheus,
// and removes every namespace, link, route, iptables rule, /etc/netns entry and sysctl change it made.
import { STATE_DIR_HELP } from '../../platform/local/client.js';
import { stateDirFrom } from '../../platform/local/config.js';
import { down } from '../../platform/local/lifecycle.js';
import { assertRequirements } from '../../platform/local/requirements.js';
import { defineCommand, EXIT_OK, stringFlag, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';

export interface DownArgs {
  readonly stateDir: string | undefined;
  readonly purge: boolean;
}

export async function run(args: DownArgs, io: CommandIO): Promise<number> {
  assertRequirements();
  const stateDir = stateDirFrom(args.stateDir, io.env, io.cwd);
  const result = await down(stateDir, args.purge);
  if (!result.wasUp) {
    io.stdout.write(`fathom is not up in ${stateDir}; nothing to do\n`);
    return EXIT_OK;
  }
  const kept = args.purge ? 'state directory removed' : `applied objects kept in ${stateDir} for the next 'fathom up'`;
  io.stdout.write(`fathom is down: ${result.pods} pod${result.pods === 1 ? '' : 's'} deleted, host network removed; ${kept}\n`);
  return EXIT_OK;
}

export const command = defineCommand<DownArgs>({
  name: 'down',
  description:
    'Stop the local platform: delete every pod, stop the agent, controller and Prometheus, and undo every ' +
    'change made to the host. Applied objects, the CA, logs and metrics stay for the next up, unless --purge.',
  examples: ['sudo fathom down', 'fathom down --purge'],
  operands: [],
  options: [
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
    { flags: '--purge', description: 'also forget applied objects, the CA, logs and metrics' },
  ],
  bind: (_operands, flags: FlagValues) => ({ stateDir: stringFlag(flags, 'stateDir'), purge: flags['purge'] === true }),
  run,
});
