// fathom-mesh: the real mesh path, client → outbound fathom-proxy → mTLS → inbound fathom-proxy →
// server, with a fathom-controller giving discovery and identities. Reported as RSS of the larger proxy
// and CPU of both (issue 9).
//
// PENDING: the proxy's controller mode (discovery through Destination.Get, certificates from
// Identity.Certify, mTLS between proxies) is being built. Until it lands this scenario reports itself
// unavailable and the runner writes a `pending` row; it never stands in for the real path.
//
// TODO(mesh) — wiring, once the proxy's data path uses the control plane (the variables are in
// docs/proxy-config.md). On loopback there is no iptables redirect, so the endpoint the controller
// hands out must be the inbound proxy itself:
//  1. Controller: `bin/fathom-controller --addr 127.0.0.1:0 --state-dir <tmp> --platform memory
//     --memory-state <tmp>/state.json` (as test/helpers/controller.ts startControllerProcess does). The
//     state: a meshed pod `bench-server` (ip 127.0.0.1, serviceAccount bench-server, containerPort = the
//     inbound proxy's port, proxyInboundPort = the same), a Service `bench` with clusterIP 127.0.0.2 and
//     port 80 → targetPort the inbound proxy's port, and tokens for bench-client and bench-server.
//  2. Inbound proxy: FATHOM_PROXY_CONTROLLER_ADDR, _IDENTITY_NAME (bench-server...), _IDENTITY_TOKEN_FILE,
//     _TRUST_ANCHORS_FILE, and FATHOM_PROXY_INBOUND_DEFAULT_DST=127.0.0.1:<ctx.upstreamPort>.
//  3. Outbound proxy: the same for bench-client, FATHOM_PROXY_DISCOVERY_NETWORKS=127.0.0.0/8 and
//     FATHOM_PROXY_OUTBOUND_DEFAULT_DST=127.0.0.2:80, so that discovery resolves the service and the
//     proxy connects to the meshed endpoint with mTLS.
//     (Alternative: two network namespaces with `fathom-proxy init`, as test/integration's transparent
//     tests do; then the backend runs inside the server namespace.)
//  4. Wait for both /ready (certificates issued), send a probe, and require the inbound proxy's metrics
//     to count it with tls="true": the run must fail, never measure plain TCP, if mTLS was not used.
//  5. Return { port: outbound proxy's port, proxies: [outboundPid, inboundPid], stop } and make
//     `unavailable` return undefined. measure.ts already reports the larger RSS and the summed CPU.
import type { Scenario } from './scenario.js';

export const MESH_PENDING = 'pending: the benchmark does not drive the mesh path yet (the proxies\' controller mode and mTLS landed after this run)';

export const fathomMesh: Scenario = {
  name: 'fathom-mesh',
  description: 'client → fathom-proxy (outbound) → mTLS → fathom-proxy (inbound) → server, with a controller',
  protocols: ['http1', 'grpc'],
  unavailable: () => MESH_PENDING,
  async start() {
    throw new Error(MESH_PENDING);
  },
};
