// What a check is: a named test with a hint, grouped into categories, run against a context that holds
// everything checks may look at (the controller's own settings, its CA files, Prometheus, the platform).
// Checks are data, as in linkerd2's healthcheck package: adding one is adding an entry to categories.ts.
import type { Inventory } from '../metrics-api/inventory.js';
import type { Sample } from '../metrics-api/prometheus.js';

/** Prometheus as checks use it: readiness, and instant queries evaluated at Prometheus's own "now". */
export interface CheckPrometheus {
  readonly url: string;
  ready(): Promise<true | string>;
  query(promql: string): Promise<Sample[]>;
}

export interface CheckContext {
  /** Milliseconds since the epoch; injectable for tests. */
  now(): number;
  readonly version: string;
  /** Where the controller's gRPC server (destination and identity) listens. */
  readonly grpcAddr: { readonly host: string; readonly port: number };
  readonly platformKind: string;
  readonly inventory: Inventory;
  /** How far clocks may disagree before mTLS breaks: leaves start this long before they are issued. */
  readonly clockSkewMs: number;
  readonly caFiles: { readonly trustAnchors: string; readonly issuerCert: string };
  /** Undefined when the controller runs without a Prometheus URL. */
  readonly prometheus: CheckPrometheus | undefined;
  /** The scrape job of proxies in Prometheus's configuration. */
  readonly proxyJob: string;
  /** What the caller (the CLI) says about itself, for the version and clock checks. */
  readonly client: { readonly version?: string | undefined; readonly timeMs?: number | undefined };
}

/** A failed check's detail (a string), or nothing when it passed. Throwing counts as failing with the error's message. */
export type CheckOutcome = string | undefined;

export interface CheckDefinition {
  readonly description: string;
  /** What the user can do about a failure: a command to run, a setting to look at. */
  readonly hint: string;
  /** A failure is a warning (‼), which does not fail `fathom check`. */
  readonly warning?: boolean;
  /** A failure skips the rest of the category and every category that requires it. */
  readonly fatal?: boolean;
  /** Whether the check applies at all (e.g. only when the CLI sent its version); default yes. */
  applies?(ctx: CheckContext): boolean;
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

export interface CheckCategory {
  readonly name: string;
  /** Only with `fathom check --proxy`: checks of the data plane. */
  readonly proxyOnly?: boolean;
  /** A category whose fatal failure means this one cannot run. */
  readonly requires?: string;
  readonly checks: readonly CheckDefinition[];
}
