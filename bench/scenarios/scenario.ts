// What a benchmark scenario is: a way to put something (or nothing) between the load generator and the
// shared backend, started fresh for each protocol, listening on free loopback ports of its own.

export type Protocol = 'http1' | 'grpc';

export interface ScenarioContext {
  /** The backend's port for the protocol being measured (on 127.0.0.1). */
  readonly upstreamPort: number;
  readonly protocol: Protocol;
  /** A private temporary directory for generated configs and logs, removed after the run. */
  readonly tmpDir: string;
  /** Extra node flags for Fathom's proxies (e.g. --cpu-prof), from the runner's options. */
  readonly fathomNodeArgs: readonly string[];
}

export interface RunningScenario {
  /** Where the load generator connects (127.0.0.1). */
  readonly port: number;
  /**
   * The proxy processes whose cost is measured, one root pid per proxy (descendants are included, so an
   * nginx master covers its workers). Empty for `direct`. With two proxies (the mesh), RSS is reported
   * for the larger one and CPU as their sum.
   */
  readonly proxies: readonly number[];
  /** Checked after the first requests: throws if they did not take the path the scenario stands for. */
  verify?(): Promise<void>;
  stop(): Promise<void>;
}

export interface Scenario {
  readonly name: string;
  /** One line for the docs: what sits between client and server. */
  readonly description: string;
  readonly protocols: readonly Protocol[];
  /** Why the scenario cannot run on this machine now (missing binary, pending feature), or undefined. */
  unavailable(): string | undefined;
  start(ctx: ScenarioContext): Promise<RunningScenario>;
}
