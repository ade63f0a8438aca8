// `fathom up`: starts the local platform in the background (host network, agent, controller and
// Prometheus), waits until each answers, and prints where things listen. Running it again checks and
// restarts whatever stopped.
import { stateDirFrom } from '../../platform/local/config.js';
import { STATE_DIR_HELP } from '../../platform/local/client.js';
import { up } from '../../platform/local/lifecycle.js';
import { assertRequirements } from '../../platform/local/requirements.js';
import { defineCommand, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';

export interface UpArgs {
  readonly stateDir: string | undefined;
  readonly tag: string | undefined;
  readonly podCidr: string | undefined;
  readonly serviceCidr: string | undefined;
  readonly prometheusPort: number | undefined;
  readonly apiPort: number | undefined;
  readonly dashboardPort: number | undefined;
}

export async function run(args: UpArgs, io: CommandIO): Promise<number> {
  assertRequirements();
  const stateDir = stateDirFrom(args.stateDir, io.env, io.cwd);
  let shown = '';
  const progress = (waiting: readonly string[]) => {
    const line = waiting.length > 0 ? `waiting for ${waiting.join(', ')}...` : '';
    if (line === shown) return;
    if (io.isTTY) io.stderr.write(`\r\x1b[K${line}`);
    else if (line) io.stderr.write(`${line}\n`);
    shown = line;
  };
  const config = await up(
    {
      stateDir,
      tag: args.tag,
      podCidr: args.podCidr,
      serviceCidr: args.serviceCidr,
      prometheusPort: args.prometheusPort,
      apiPort: args.apiPort,
      dashboardPort: args.dashboardPort,
      proxyStandalone: io.env['FATHOM_LOCAL_PROXY_STANDALONE'] === '1' ? true : undefined,
    },
    progress,
  );
  const lines = [
    `fathom is up (state in ${config.stateDir})`,
    `  controller   ${config.gateway}:${config.controllerPort} (destination and identity, gRPC over TLS)`,
    `  metrics API  http://127.0.0.1:${config.apiPort} (fathom stat, routes, edges)`,
    `  dashboard    http://127.0.0.1:${config.dashboardPort}/ (fathom dashboard)`,
    `  prometheus   http://127.0.0.1:${config.prometheusPort}`,
    `  pods         ${config.podCidr} behind ${config.tag}0 (${config.gateway}); services ${config.serviceCidr}`,
  ];
  if (config.proxyStandalone) lines.push('  proxies      standalone (FATHOM_LOCAL_PROXY_STANDALONE=1): no identity, no discovery');
  io.stdout.write(lines.join('\n') + '\n');
  return EXIT_OK;
}

function portFlag(flags: FlagValues, name: string, flag: string): number | undefined {
  const text = stringFlag(flags, name);
  const port = text === undefined ? undefined : Number(text);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new UsageError(`invalid ${flag} "${text}": expected 1-65535`);
  return port;
}

/** `up`'s flags, as `up` and `demo` (which takes the same ones) read them. */
export function bindUpFlags(flags: FlagValues): UpArgs {
  return {
    stateDir: stringFlag(flags, 'stateDir'),
    tag: stringFlag(flags, 'tag'),
    podCidr: stringFlag(flags, 'podCidr'),
    serviceCidr: stringFlag(flags, 'serviceCidr'),
    prometheusPort: portFlag(flags, 'prometheusPort', '--prometheus-port'),
    apiPort: portFlag(flags, 'apiPort', '--api-port'),
    dashboardPort: portFlag(flags, 'dashboardPort', '--dashboard-port'),
  };
}

export const command = defineCommand<UpArgs>({
  name: 'up',
  description:
    'Start the local platform in the background: pods as network namespaces on this host, the controller ' +
    '(destination and identity) and Prometheus. Idempotent. Needs Linux and root. The settings below are ' +
    "fixed until 'fathom down'.",
  examples: ['sudo fathom up', 'fathom up --state-dir /tmp/mesh --tag dev --pod-cidr 198.18.4.0/24 --service-cidr 198.19.4.0/24'],
  operands: [],
  options: [
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
    { flags: '--tag <name>', description: 'names this instance\'s links, namespaces and iptables chains (default fathom)' },
    { flags: '--pod-cidr <cidr>', description: 'pod addresses, within 198.18.0.0/15 (default 198.18.0.0/16)' },
    { flags: '--service-cidr <cidr>', description: 'cluster IPs of services, within 198.18.0.0/15 (default 198.19.0.0/16)' },
    { flags: '--prometheus-port <port>', description: 'Prometheus listens on 127.0.0.1 at this port (default 9095)' },
    { flags: '--api-port <port>', description: "the controller's metrics API listens on 127.0.0.1 at this port (default 8085)" },
    { flags: '--dashboard-port <port>', description: "the controller's web dashboard listens on 127.0.0.1 at this port (default 50750)" },
  ],
  bind: (_operands, flags) => bindUpFlags(flags),
  run,
});
