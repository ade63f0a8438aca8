// `fathom exec POD|deploy/NAME [-n NS] [-c CONTAINER] -- CMD [ARGS...]`: runs a command inside a pod's
// network namespace, with its hosts file as /etc/hosts and the container's environment and working
// directory, like `kubectl exec`; its exit status becomes ours.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { FathomError } from '../../lib/errors.js';
import { openLocal, resolvePod, STATE_DIR_HELP } from '../../platform/local/client.js';
import { isSupervisor } from '../../platform/local/pods.js';
import { defineCommand, stringFlag, UsageError, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';

export interface ExecArgs {
  readonly target: string;
  readonly command: readonly string[];
  readonly namespace: string;
  readonly container: string | undefined;
  readonly stateDir: string | undefined;
}

export async function run(args: ExecArgs, io: CommandIO): Promise<number> {
  const config = openLocal(args.stateDir, io);
  const { pod } = resolvePod(config.stateDir, args.namespace, args.target);
  const r = pod.record;
  if (pod.terminating) throw new FathomError('EINVALID', `pod ${r.name} is terminating`);
  const containers = [...r.sidecars, ...r.containers];
  const container = containers.find((c) => c.name === (args.container ?? r.containers[0]?.name));
  if (!container) throw new FathomError('ENOTFOUND', `container "${args.container}" is not in pod ${r.name}; choose one of: ${containers.map((c) => c.name).join(', ')}`);
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
  // `ip netns exec` enters the namespace and bind-mounts /etc/netns/<ns>/hosts over /etc/hosts;
  // nsenter joins the pod's UTS namespace (its hostname) when its supervisor runs.
  const supervisor = pod.status?.supervisorPid;
  const uts = isSupervisor(supervisor, r) ? ['nsenter', `--uts=/proc/${supervisor}/ns/uts`, '--'] : [];
  const child = spawn('ip', ['netns', 'exec', r.netns, ...uts, ...args.command], {
    env,
    cwd: container.workingDir || '/',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  io.stdin.pipe(child.stdin).on('error', () => {});
  child.stdout.pipe(io.stdout, { end: false });
  child.stderr.pipe(io.stderr, { end: false });
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new FathomError('EEXEC', `cannot run ip netns exec: ${err.message}`)));
    child.once('close', (code, signal) => {
      io.stdin.unpipe(child.stdin);
      // A terminal's stdin left flowing would keep the process alive after the command ended.
      io.stdin.pause();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

function bind(operands: readonly string[], flags: FlagValues): ExecArgs {
  const [target, ...command] = operands;
  if (!target) throw new UsageError('a pod (or deploy/NAME) is required');
  if (command.length === 0) throw new UsageError('a command is required after --, e.g. fathom exec web -- curl -s http://api/');
  return { target, command, namespace: stringFlag(flags, 'namespace') ?? 'default', container: stringFlag(flags, 'container'), stateDir: stringFlag(flags, 'stateDir') };
}

export const command = defineCommand<ExecArgs>({
  name: 'exec',
  description: "Run a command in a pod's network namespace, seeing the pod's hosts file, with the container's environment. Exits with the command's status.",
  examples: ['fathom exec deploy/web -- curl -s http://api/', 'fathom exec web-5c8f9d7b6d-x2x4k -n demo -- cat /etc/hosts'],
  operands: [
    { name: 'pod', description: 'a pod name, or deploy/NAME for one of its pods' },
    { name: 'command', description: 'the command and its arguments, after --', variadic: true, optional: true },
  ],
  options: [
    { flags: '-n, --namespace <ns>', description: 'namespace (default "default")' },
    { flags: '-c, --container <name>', description: "whose environment and working directory to use (default the app container)" },
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
  ],
  bind,
  run,
});
