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
