// `fathom check`: runs the control plane's checks (control plane, identity, Prometheus, versions, clocks,
// and with --proxy the data plane) and prints them as Linkerd does, √ / ‼ / × with a hint per failure;
// exits 1 when any check fails. An unreachable control plane is itself a failed check.
import type { CheckLine, ChecksResponse } from '../../controller/metrics-api/types.js';
import { FathomError } from '../../lib/errors.js';
import { ApiClient, API_OPTIONS, type ApiFlags } from '../api-client.js';
import { defineCommand, EXIT_FAILURE, EXIT_OK, stringFlag, type FlagValues } from '../command.js';
import { useColour, type CommandIO } from '../io.js';
import { parseOutputFormat, renderStructured } from '../output.js';
import { packageInfo } from '../package-info.js';
import { paint, type Colour } from '../table.js';

export interface CheckArgs extends ApiFlags {
  readonly proxy: boolean;
  readonly output: 'table' | 'json';
}

const MARK: Readonly<Record<CheckLine['result'], [string, Colour]>> = { success: ['√', 'green'], warning: ['‼', 'yellow'], error: ['×', 'red'] };

/** What `check` reports when the API cannot be reached at all: the first check, failed. */
function unreachable(err: FathomError): ChecksResponse {
  return {
    success: false,
    categories: [
      {
        name: 'fathom-control-plane',
        checks: [{ description: 'control plane API is reachable', result: 'error', error: err.message, hint: "start the control plane with 'fathom up'" }],
      },
    ],
  };
}

export function renderChecks(res: ChecksResponse, colour: boolean): string {
  let out = '';
  for (const category of res.categories) {
    out += `${category.name}\n${'-'.repeat(category.name.length)}\n`;
    for (const line of category.checks) {
      const [mark, tint] = MARK[line.result];
      out += `${paint(mark, colour ? tint : undefined)} ${line.description}\n`;
      if (line.error) out += `    ${line.error}\n`;
      if (line.hint && line.result !== 'success') out += `    hint: ${line.hint}\n`;
    }
    out += '\n';
  }
  const [mark, tint] = res.success ? MARK.success : MARK.error;
  return out + `Status check results are ${paint(mark, colour ? tint : undefined)}\n`;
}

export async function run(args: CheckArgs, io: CommandIO): Promise<number> {
  const api = ApiClient.for(args, io);
  let res: ChecksResponse;
  try {
    res = await api.get<ChecksResponse>('/api/v1/checks', { proxy: args.proxy, 'client-version': packageInfo().version, 'client-time': Date.now() });
  } catch (err) {
    if (!(err instanceof FathomError) || err.code !== 'ENOCONTROLPLANE') throw err;
    res = unreachable(err);
  }
  io.stdout.write(args.output === 'json' ? renderStructured(res, 'json') : renderChecks(res, useColour(io)));
  return res.success ? EXIT_OK : EXIT_FAILURE;
}

export const command = defineCommand<CheckArgs>({
  name: 'check',
  description:
    'Checks that the mesh is healthy: the control plane runs and answers, its CA is valid for at least 60 days, ' +
    'Prometheus runs and scrapes, versions match and clocks agree; with --proxy, that every proxy is ready and certified. ' +
    'Exits 1 when a check fails (warnings, ‼, do not fail).',
  examples: ['fathom check', 'fathom check --proxy', 'fathom check -o json'],
  operands: [],
  options: [
    { flags: '--proxy', description: 'also check the data plane: proxies ready, certified and up to date' },
    { flags: '-o, --output <format>', description: 'json; text by default' },
    ...API_OPTIONS,
  ],
  bind: (_operands, flags: FlagValues) => ({
    proxy: flags['proxy'] === true,
    output: parseOutputFormat(stringFlag(flags, 'output'), ['table', 'json']) as CheckArgs['output'],
    apiAddr: stringFlag(flags, 'apiAddr'),
    stateDir: stringFlag(flags, 'stateDir'),
  }),
  run,
});
