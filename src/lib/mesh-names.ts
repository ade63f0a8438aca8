// The names the mesh puts on workloads (annotations, the proxy container, its uid and ports), shared by
// the CLI and the platforms that act on them; values follow Linkerd's with Fathom's prefix.

/** On a pod template: `enabled` meshes its pods, `disabled` opts them out (Linkerd's `linkerd.io/inject`). */
export const INJECT_ANNOTATION = 'fathom.io/inject';

/** The sidecar container a platform adds to meshed pods. */
export const PROXY_CONTAINER = 'fathom-proxy';

/** The proxy runs as this uid; the redirect rules exempt its traffic (Linkerd's 2102). */
export const PROXY_UID = 2102;

/** The proxy's listeners (Linkerd's ports). */
export const PROXY_PORTS = { inbound: 4143, outbound: 4140, admin: 4191, tap: 4190 } as const;

/** Proxy settings carried as pod template annotations (see docs/cli.md, `fathom inject` flags). */
export const PROXY_LOG_LEVEL_ANNOTATION = 'config.fathom.io/proxy-log-level';
export const SKIP_INBOUND_PORTS_ANNOTATION = 'config.fathom.io/skip-inbound-ports';
export const SKIP_OUTBOUND_PORTS_ANNOTATION = 'config.fathom.io/skip-outbound-ports';

/** Set on a Deployment's pod template by `fathom rollout restart`: a new value rolls the pods. */
export const RESTARTED_AT_ANNOTATION = 'fathom.io/restartedAt';

/**
 * Node flags every fathom-proxy process runs with (the local platform's pod spec, the benchmark, the
 * tests; bin/fathom-proxy's shebang repeats them for direct runs). Nearly everything a proxy allocates is
 * garbage once its request ends, so V8's young generation is kept at 1 MB per semi-space (by default it
 * grows to 16) and V8 does not move allocation sites straight to the old generation when their objects
 * outlive a scavenge: with so small a young generation, per-connection objects that live until the
 * connection's next request qualify, and the old generation then fills with garbage between full
 * collections. At 1000 HTTP/1 requests/s the peak RSS went from 89 to 68 MB at no CPU cost
 * (docs/performance.md, optimisation log).
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-allocation-site-pretenuring'];
