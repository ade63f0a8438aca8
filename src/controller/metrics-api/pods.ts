// `pods`: the platform's pods in scope, with the deployment each belongs to, read from the controller's
// platform cache (the dashboard lists a deployment's pods with it; stat rows do not say whose a pod is).
import { FathomError } from '../../lib/errors.js';
import type { Inventory } from './inventory.js';
import type { PodsResponse } from './types.js';

export interface PodsRequest {
  readonly namespace: string;
  readonly allNamespaces: boolean;
}

export function pods(req: PodsRequest, inventory: Inventory): PodsResponse {
  const all = inventory.pods();
  if (all === undefined) throw new FathomError('ENOLISTING', 'this platform cannot list its pods');
  return {
    pods: all
      .filter((p) => req.allNamespaces || p.namespace === req.namespace)
      .map((p) => ({
        namespace: p.namespace,
        name: p.name,
        deployment: p.owner?.kind === 'Deployment' ? p.owner.name : null,
        ip: p.ip ?? null,
        ready: p.ready,
        meshed: p.meshed,
      }))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
  };
}
