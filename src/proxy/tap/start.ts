// Starts the proxy's tap: a TapHub for the data path always (standalone proxies' hub is simply never
// active), and the mTLS Tap server on FATHOM_PROXY_TAP_ADDR only when the proxy has a control plane.
import type { SocketAddr } from '../../lib/addr.js';
import type { Logger } from '../../lib/log.js';
import type { ProxyConfig } from '../config.js';
import type { Mesh } from '../mesh.js';
import { TapHub } from './hub.js';
import { startTapServer, type RunningTapServer } from './server.js';

export interface Tap {
  /** What the exchanges report requests to (see hub.ts). */
  readonly hub: TapHub;
  /** Where the Tap server listens; undefined for a standalone proxy. */
  readonly addr: SocketAddr | undefined;
  close(): Promise<void>;
}

export async function startTap(config: Pick<ProxyConfig, 'tapAddr' | 'controllerIdentity'>, mesh: Mesh | undefined, log: Logger): Promise<Tap> {
  const hub = new TapHub();
  let server: RunningTapServer | undefined;
  if (mesh) {
    server = await startTapServer({ addr: config.tapAddr, store: mesh.store, controllerIdentity: config.controllerIdentity, hub, log });
  }
  return {
    hub,
    addr: server && { host: config.tapAddr.host, port: server.port },
    close: async () => server?.close(),
  };
}
