// Every scenario, in the order the benchmark runs and reports them.
import { direct } from './direct.js';
import { fathom1hop } from './fathom-1hop.js';
import { fathomMesh } from './fathom-mesh.js';
import { haproxy1hop } from './haproxy-1hop.js';
import { nginx1hop } from './nginx-1hop.js';
import { fastifyHttpProxy1hop, nodeHttpProxy1hop } from './node-proxies.js';
import type { Scenario } from './scenario.js';

export const SCENARIOS: readonly Scenario[] = [direct, fathom1hop, fathomMesh, nginx1hop, haproxy1hop, nodeHttpProxy1hop, fastifyHttpProxy1hop];

/** The scenarios of a quick run (issue 9): direct, fathom-1hop and fathom-mesh. */
export const QUICK_SCENARIOS: readonly string[] = ['direct', 'fathom-1hop', 'fathom-mesh'];
