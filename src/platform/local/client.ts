// What the CLI's platform commands share: finding the instance (state directory, requirements, saved
// configuration) and resolving `POD`, `pod/NAME` or `deploy/NAME` to one pod.
import { FathomError } from '../../lib/errors.js';
import { requireConfig, stateDirFrom, type LocalConfig } from './config.js';
import { daemonPid } from './daemons.js';
import { assertRequirements } from './requirements.js';
import { loadSnapshot, type PodView } from './snapshot.js';

export const STATE_DIR_HELP = 'state directory of the local platform (default: $FATHOM_STATE_DIR or /var/lib/fathom)';

export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Checks the machine, then loads the configuration of the instance that `fathom up` started. */
export function openLocal(stateDirFlag: string | undefined, where: Environment): LocalConfig {
  assertRequirements();
  const config = requireConfig(stateDirFrom(stateDirFlag, where.env, where.cwd));
  if (!daemonPid(config.stateDir, 'agent')) {
    throw new FathomError('ENOTUP', `the local platform in ${config.stateDir} is not running (its agent is not); run 'fathom up'`);
  }
  return config;
}

const DEPLOYMENT_PREFIXES = ['deploy/', 'deployment/', 'deployments/', 'deployment.apps/'];

/**
 * The pod a `logs`/`exec` target names: a pod name (or `pod/NAME`), or `deploy/NAME` for the
 * Deployment's first ready pod (else its newest). Says which pod was chosen for a Deployment.
 */
export function resolvePod(stateDir: string, namespace: string, target: string): { pod: PodView; chosenFrom?: number } {
  const pods = loadSnapshot(stateDir).pods.filter((p) => p.record.namespace === namespace);
  const prefix = DEPLOYMENT_PREFIXES.find((p) => target.startsWith(p));
  if (prefix) {
    const name = target.slice(prefix.length);
    const mine = pods
      .filter((p) => p.record.owner.name === name && !p.terminating)
      .sort((a, b) => Number(b.ready) - Number(a.ready) || b.record.creationTimestamp.localeCompare(a.record.creationTimestamp));
    if (mine.length === 0) throw new FathomError('ENOTFOUND', `no pods of deployment "${name}" in namespace "${namespace}"`);
    return { pod: mine[0]!, chosenFrom: mine.length };
  }
  const name = target.startsWith('pod/') ? target.slice(4) : target.startsWith('pods/') ? target.slice(5) : target;
  const pod = pods.find((p) => p.record.name === name);
  if (!pod) throw new FathomError('ENOTFOUND', `pod "${name}" not found in namespace "${namespace}"`);
  return { pod };
}
