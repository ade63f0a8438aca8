// fathom-1hop: one real fathom-proxy process (bin/fathom-proxy, standalone mode) between client and
// server. The client connects to the outbound listener directly; with no iptables redirect, the proxy
// sends such connections to FATHOM_PROXY_OUTBOUND_DEFAULT_DST, the backend.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, httpOk, start, waitUntil } from '../lib/processes.js';
import type { Scenario } from './scenario.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PROXY_BIN = `${ROOT}bin/fathom-proxy`;
const PROXY_ENTRY = `${ROOT}dist/src/proxy/main.js`;

/** Environment for a fathom-proxy on free loopback ports; returns the ports too. */
export async function proxyPorts(): Promise<{ inbound: number; outbound: number; admin: number; tap: number }> {
  return { inbound: await freePort(), outbound: await freePort(), admin: await freePort(), tap: await freePort() };
}

export const fathom1hop: Scenario = {
  name: 'fathom-1hop',
  description: 'client → fathom-proxy (outbound, standalone) → server',
  protocols: ['http1', 'grpc'],
  unavailable: () => (existsSync(PROXY_ENTRY) ? undefined : `${PROXY_ENTRY} not built (run scripts/setup.sh)`),
  async start(ctx) {
    const ports = await proxyPorts();
    const child = start('fathom-proxy', process.execPath, [...ctx.fathomNodeArgs, PROXY_BIN], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        FATHOM_PROXY_INBOUND_ADDR: `127.0.0.1:${ports.inbound}`,
        FATHOM_PROXY_OUTBOUND_ADDR: `127.0.0.1:${ports.outbound}`,
        FATHOM_PROXY_ADMIN_ADDR: `127.0.0.1:${ports.admin}`,
        FATHOM_PROXY_TAP_ADDR: `127.0.0.1:${ports.tap}`,
        FATHOM_PROXY_OUTBOUND_DEFAULT_DST: `127.0.0.1:${ctx.upstreamPort}`,
        FATHOM_PROXY_SHUTDOWN_GRACE_PERIOD: '2s',
      },
      cwd: ctx.tmpDir, // where --cpu-prof writes, if asked
    });
    await waitUntil(child, () => httpOk(`http://127.0.0.1:${ports.admin}/ready`));
    return { port: ports.outbound, proxies: [child.pid], stop: () => child.stop(10_000) };
  },
};
