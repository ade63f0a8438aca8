// The proxy's connection to the control plane, when it has one: its TLS identity (certified by the
// controller and renewed), the destination client, and the discovery networks. Standalone proxies have
// no Mesh. Built once at start-up; the pipelines read it.
import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { FathomError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { ProxyConfig } from './config.js';
import { DiscoveryClient } from './discover/client.js';
import { startIdentity, type IdentityClient } from './identity/client.js';
import type { ProxyMetrics } from './metrics/registry.js';
import { IdentityStore } from './tls/store.js';

export interface Mesh {
  /** This proxy's identity name (the SNI peers use to reach it, the client_id it presents). */
  readonly localIdentity: string;
  readonly store: IdentityStore;
  readonly identity: IdentityClient;
  readonly discovery: DiscoveryClient;
  /** The context token sent with every lookup. */
  readonly contextToken: string;
  readonly failfastMs: number;
  /** True when `ip` is in the discovery networks (its destination is resolved through the controller). */
  discoverable(ip: string): boolean;
  close(): void;
}

export async function startMesh(config: ProxyConfig, metrics: ProxyMetrics, log: Logger): Promise<Mesh | undefined> {
  if (!config.controllerAddr) return undefined;
  const trustAnchorsPem = await readFile(config.trustAnchorsFile!, 'utf8').catch((err: unknown) => {
    throw new FathomError('ETRUSTANCHORS', `cannot read FATHOM_PROXY_TRUST_ANCHORS_FILE ${config.trustAnchorsFile}: ${(err as Error).message}`, { cause: err });
  });
  const localIdentity = config.identityName!;
  const store = new IdentityStore({ identity: localIdentity, trustAnchorsPem });
  const controller = { addr: config.controllerAddr, identity: config.controllerIdentity, trustAnchorsPem };
  const identity = startIdentity({
    ...controller,
    controllerAddr: config.controllerAddr,
    controllerIdentity: config.controllerIdentity,
    identity: localIdentity,
    // Read on every attempt: the platform may rotate the token file.
    token: () => readFile(config.identityTokenFile!),
    store,
    log,
  });
  const discovery = new DiscoveryClient({ controller, failfastMs: config.failfastMs, log });

  const networks = new BlockList();
  for (const cidr of config.discoveryNetworks) {
    const [ip, prefix] = cidr.split('/');
    networks.addSubnet(ip!, Number(prefix), isIP(ip!) === 6 ? 'ipv6' : 'ipv4');
  }
  metrics.addCollector(() => renderIdentityMetrics(identity));

  return {
    localIdentity,
    store,
    identity,
    discovery,
    contextToken: config.destinationContext,
    failfastMs: config.failfastMs,
    discoverable: (ip) => {
      const family = isIP(ip);
      return family !== 0 && networks.check(ip, family === 6 ? 'ipv6' : 'ipv4');
    },
    close() {
      identity.close();
      discovery.close();
    },
  };
}

function renderIdentityMetrics(identity: IdentityClient): string {
  const expiry = identity.expirationTimestampSeconds();
  let out =
    '# HELP identity_cert_refresh_count The total number of times this proxy\'s identity certificate has been refreshed by the identity service.\n' +
    '# TYPE identity_cert_refresh_count counter\n' +
    `identity_cert_refresh_count ${identity.refreshCount()}\n`;
  if (expiry !== undefined) {
    out +=
      '# HELP identity_cert_expiration_timestamp_seconds Time when this proxy\'s current identity certificate expires, in seconds since the Unix epoch.\n' +
      '# TYPE identity_cert_expiration_timestamp_seconds gauge\n' +
      `identity_cert_expiration_timestamp_seconds ${expiry}\n`;
  }
  return out;
}
