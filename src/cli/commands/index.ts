// The registry of CLI commands, in the order `fathom --help` lists them. Adding a command is one line
// here plus its module under commands/ exporting `command` (see docs/cli.md). Modules load only when
// their command runs, so a command's dependencies never slow down the others.
import type { Command } from '../command.js';

export interface CommandEntry {
  readonly name: string;
  /** One line for `fathom --help`. */
  readonly summary: string;
  load(): Promise<{ readonly command: Command }>;
}

export const commands: readonly CommandEntry[] = [
  { name: 'up', summary: 'Start the local platform (pods on this host, controller, Prometheus)', load: () => import('./up.js') },
  { name: 'down', summary: 'Stop the local platform and remove everything it made', load: () => import('./down.js') },
  { name: 'apply', summary: 'Create or update objects from Kubernetes YAML on the local platform', load: () => import('./apply.js') },
  { name: 'delete', summary: 'Delete objects from the local platform', load: () => import('./delete.js') },
  { name: 'get', summary: 'List pods, deployments and services of the local platform', load: () => import('./get.js') },
  { name: 'logs', summary: "Print a pod's container output", load: () => import('./logs.js') },
  { name: 'exec', summary: "Run a command in a pod's network namespace", load: () => import('./exec.js') },
  { name: 'rollout', summary: "Restart a deployment's pods, or wait for a rollout", load: () => import('./rollout.js') },
  { name: 'inject', summary: 'Add the workloads in Kubernetes YAML to the mesh', load: () => import('./inject.js') },
  { name: 'uninject', summary: 'Take the workloads in Kubernetes YAML out of the mesh', load: () => import('./uninject.js') },
  { name: 'check', summary: 'Check that the mesh is healthy', load: () => import('./check.js') },
  { name: 'stat', summary: 'Show golden metrics of deployments, pods, namespaces, services or authorities', load: () => import('./stat.js') },
  { name: 'top', summary: "Show a live table of a resource's busiest requests, from tap", load: () => import('./top.js') },
  { name: 'tap', summary: "Stream a resource's live requests", load: () => import('./tap.js') },
  { name: 'routes', summary: 'Show golden metrics per route of a resource', load: () => import('./routes.js') },
  { name: 'edges', summary: 'Show the connections between resources and whether they are secured', load: () => import('./edges.js') },
  { name: 'dashboard', summary: 'Open the web dashboard: live tables, charts over time, tap and top', load: () => import('./dashboard.js') },
  { name: 'demo', summary: 'Run the nodevoto demo: an app fails somewhere, the mesh shows where', load: () => import('./demo.js') },
  { name: 'version', summary: 'Print the CLI version', load: () => import('./version.js') },
];
