// What a Deployment needs done to its pods, as a pure plan: create pods of the current template up to
// `replicas`, and remove old-template pods only as new ones become ready (surge first, then drain), so a
// changed template rolls without dropping below the ready count it had.
import type { PodView } from './snapshot.js';

export interface RolloutPlan {
  /** How many pods of the current template to create. */
  readonly create: number;
  readonly remove: readonly PodView[];
}

/** Not-ready pods go first, then the newest (they have served least). */
function removalOrder(a: PodView, b: PodView): number {
  if (a.ready !== b.ready) return a.ready ? 1 : -1;
  return b.record.creationTimestamp.localeCompare(a.record.creationTimestamp);
}

/** `pods`: the Deployment's pods that are not already terminating. */
export function planRollout(replicas: number, currentHash: string, pods: readonly PodView[]): RolloutPlan {
  const current = pods.filter((p) => p.record.templateHash === currentHash);
  const old = pods.filter((p) => p.record.templateHash !== currentHash);
  const remove: PodView[] = [];
  if (current.length > replicas) remove.push(...[...current].sort(removalOrder).slice(0, current.length - replicas));
  const kept = current.filter((p) => !remove.includes(p));
  const readyNew = kept.filter((p) => p.ready).length;
  // Old pods may stay as long as they make up for new ones not ready yet.
  const oldAllowed = Math.max(0, replicas - readyNew);
  if (old.length > oldAllowed) remove.push(...[...old].sort(removalOrder).slice(0, old.length - oldAllowed));
  return { create: Math.max(0, replicas - current.length), remove };
}
