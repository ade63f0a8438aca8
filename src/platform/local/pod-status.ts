// A pod's runtime status as its supervisor reports it (`status/<ns>_<pod>.json`): phase, readiness and,
// per container, state, restart count and pid; read by the agent, the platform and `fathom get`.
import { join } from 'node:path';
import { readJson, writeFileAtomic } from './files.js';
import { layout, podKey } from './layout.js';

export type ContainerState = 'waiting' | 'running' | 'terminated';

export interface ContainerStatus {
  readonly name: string;
  readonly state: ContainerState;
  /** Why it is waiting or terminated: ContainerCreating, PodInitializing, CrashLoopBackOff, Error, Completed... */
  readonly reason?: string;
  readonly message?: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly pid?: number;
  readonly startedAt?: string;
  readonly lastExitCode?: number;
}

export interface PodStatus {
  readonly phase: 'Pending' | 'Running' | 'Failed';
  /** All containers (sidecars included) running and ready. */
  readonly ready: boolean;
  readonly supervisorPid: number;
  readonly startTime: string;
  readonly initContainers: readonly ContainerStatus[];
  /** Sidecars first, then the app containers. */
  readonly containers: readonly ContainerStatus[];
  readonly updatedAt: string;
}

export function statusPath(stateDir: string, namespace: string, name: string): string {
  return join(layout(stateDir).status, `${podKey(namespace, name)}.json`);
}

export function readStatus(stateDir: string, namespace: string, name: string): PodStatus | undefined {
  return readJson<PodStatus>(statusPath(stateDir, namespace, name));
}

export function writeStatus(stateDir: string, namespace: string, name: string, status: PodStatus): void {
  writeFileAtomic(statusPath(stateDir, namespace, name), JSON.stringify(status) + '\n');
}
