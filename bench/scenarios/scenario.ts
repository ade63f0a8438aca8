// What a benchmark scenario is: a way to put something (or nothing) between the load generator and the
// backend, started fresh for each protocol: on free loopback ports of its own against the shared backend,
// or (the mesh) in network namespaces of its own with its own backend and the generator inside them.

export type Protocol = 'http1' | 'grpc';

export interface ScenarioContext {
  /** The backend's port for the protocol being measured (on 127.0.0.1). */
  readonly upstreamPort: number;
  readonly protocol: Protocol;
  /** A private temporary directory for generated configs and logs, removed after the run. */
  readonly tmpDir: string;
  /** Extra node flags for Fathom's proxies (e.g. --cpu-prof), from the runner's options. */
  readonly fathomNodeArgs: readonly string[];
  /** The run's body size, for a scenario that starts a backend of its own. */
  readonly payloadBytes: number;
}

export interface RunningScenario {
  /** Where the load generator connects: `host` (default 127.0.0.1) and `port`. */
  readonly host?: string;
  readonly port: number;
  /** The network namespace the load generator runs in (`ip netns exec`); default the runner's own. */
  readonly netns?: string;
  /** The scenario's own backend, whose CPU is reported instead of the shared backend's. */
  readonly backendPid?: number;
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
