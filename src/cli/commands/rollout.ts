// `fathom rollout restart deploy/NAME`: rolls a Deployment's pods by stamping its pod template, as
// `kubectl rollout restart` does; `fathom rollout status deploy/NAME` waits until the rollout is done.
import { setTimeout as sleep } from 'node:timers/promises';
import { FathomError } from '../../lib/errors.js';
import { RESTARTED_AT_ANNOTATION } from '../../lib/mesh-names.js';
import { parseDuration } from '../../lib/duration.js';
import { openLocal, STATE_DIR_HELP } from '../../platform/local/client.js';
import { loadSnapshot } from '../../platform/local/snapshot.js';
import { ObjectStore } from '../../platform/local/store.js';
import { deploymentCounts } from '../../platform/local/views.js';
import { defineCommand, EXIT_OK, stringFlag, UsageError, type FlagValues } from '../command.js';
import type { CommandIO } from '../io.js';

export interface RolloutArgs {
  readonly action: 'restart' | 'status';
  readonly deployment: string;
  readonly namespace: string;
  readonly timeoutMs: number;
  readonly stateDir: string | undefined;
}

export async function run(args: RolloutArgs, io: CommandIO): Promise<number> {
  const config = openLocal(args.stateDir, io);
  if (args.action === 'restart') {
    const found = await new ObjectStore(config).update('Deployment', args.namespace, args.deployment, (o) => {
      if (o.kind !== 'Deployment') return;
      const annotations = o.spec.template.metadata.annotations;
      o.spec.template.metadata.annotations = { ...annotations, [RESTARTED_AT_ANNOTATION]: new Date().toISOString() };
    });
    if (!found) throw new FathomError('ENOTFOUND', `deployment "${args.deployment}" not found in namespace "${args.namespace}"`);
    io.stdout.write(`deployment.apps/${args.deployment} restarted\n`);
    return EXIT_OK;
  }
  const deadline = Date.now() + args.timeoutMs;
  let said = '';
  for (;;) {
    const snap = loadSnapshot(config.stateDir);
    const d = snap.deployments.find((x) => x.metadata.name === args.deployment && x.metadata.namespace === args.namespace);
    if (!d) throw new FathomError('ENOTFOUND', `deployment "${args.deployment}" not found in namespace "${args.namespace}"`);
    const c = deploymentCounts(d, snap);
    const want = d.spec.replicas;
    if (c.updated === want && c.replicas === want && c.ready === want) {
      io.stdout.write(`deployment "${args.deployment}" successfully rolled out\n`);
      return EXIT_OK;
    }
    const line =
      c.updated < want
        ? `Waiting for deployment "${args.deployment}" rollout to finish: ${c.updated} out of ${want} new replicas have been updated...`
        : c.replicas > want
          ? `Waiting for deployment "${args.deployment}" rollout to finish: ${c.replicas - want} old replicas are pending termination...`
          : `Waiting for deployment "${args.deployment}" rollout to finish: ${c.ready} of ${want} updated replicas are available...`;
    if (line !== said) io.stdout.write(`${line}\n`);
    said = line;
    if (Date.now() > deadline) throw new FathomError('ETIMEOUT', `deployment "${args.deployment}" did not finish rolling out in ${args.timeoutMs / 1000}s`);
    await sleep(250);
  }
}

function bind(operands: readonly string[], flags: FlagValues): RolloutArgs {
  const [action, target] = operands;
  if (action !== 'restart' && action !== 'status') throw new UsageError(`unknown action "${action ?? ''}": expected restart or status`);
  const m = /^(?:deploy|deployment|deployments|deployment\.apps)\/(.+)$/.exec(target ?? '');
  if (!m) throw new UsageError(`expected deploy/NAME, not "${target ?? ''}"`);
  const timeout = parseDuration(stringFlag(flags, 'timeout') ?? '5m');
  if (typeof timeout === 'string') throw new UsageError(`invalid --timeout: ${timeout}`);
  return { action, deployment: m[1]!, namespace: stringFlag(flags, 'namespace') ?? 'default', timeoutMs: timeout, stateDir: stringFlag(flags, 'stateDir') };
}

export const command = defineCommand<RolloutArgs>({
  name: 'rollout',
  description: "Manage a Deployment's rollout: 'restart' replaces its pods with new ones (ready ones first), 'status' waits until the rollout is complete.",
  examples: ['fathom rollout restart deploy/web', 'fathom rollout status deploy/web -n demo --timeout 2m'],
  operands: [
    { name: 'action', description: 'restart or status' },
    { name: 'deployment', description: 'deploy/NAME' },
  ],
  options: [
    { flags: '-n, --namespace <ns>', description: 'namespace (default "default")' },
    { flags: '--timeout <duration>', description: 'status: how long to wait (default 5m)' },
    { flags: '--state-dir <dir>', description: STATE_DIR_HELP },
  ],
  bind,
  run,
});
