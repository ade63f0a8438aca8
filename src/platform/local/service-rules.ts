// Service routing for un-meshed traffic, as kube-proxy's iptables mode does it: each cluster IP and port
// is DNATed to one of its ready endpoints picked at random (statistic match), and a pod reaching itself
// through its own service is SNATed to the gateway so that its reply comes back through the host.
// Meshed clients' proxies resolve services through the destination API instead; these rules remain
// for their un-redirected traffic and for un-meshed pods.
import { hostNames } from './host-network.js';
import { mustRun } from './exec.js';

export interface RoutedService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
  readonly ports: readonly {
    readonly name: string;
    readonly port: number;
    readonly protocol: string;
    /** Ready endpoints of this port: pod IP and target port. */
    readonly endpoints: readonly { readonly ip: string; readonly port: number }[];
  }[];
}

/** The `iptables-restore --noflush` input that replaces the instance's service chains as a whole. */
export function serviceRules(tag: string, gateway: string, services: readonly RoutedService[]): string {
  const { chains } = hostNames(tag);
  const lines = ['*nat', `:${chains.services} - [0:0]`, `:${chains.postrouting} - [0:0]`];
  const hairpin = new Set<string>();
  const sorted = [...services].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  for (const svc of sorted) {
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(svc.clusterIP)) continue;
    for (const port of svc.ports) {
      const proto = port.protocol.toLowerCase();
      if (proto !== 'tcp' && proto !== 'udp') continue;
      const endpoints = [...port.endpoints].sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }) || a.port - b.port);
      const comment = `-m comment --comment "${svc.namespace}/${svc.name}${port.name ? `:${port.name}` : ''}"`;
      const match = `-d ${svc.clusterIP}/32 -p ${proto} -m ${proto} --dport ${port.port} ${comment}`;
      endpoints.forEach((ep, i) => {
        const left = endpoints.length - i;
        // Rule i takes 1/left of what reaches it, so each endpoint gets 1/n overall.
        const pick = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
        lines.push(`-A ${chains.services} ${match}${pick} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
        hairpin.add(ep.ip);
      });
    }
  }
  for (const ip of [...hairpin].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    lines.push(`-A ${chains.postrouting} -s ${ip}/32 -d ${ip}/32 -m comment --comment "fathom/${tag}/hairpin" -j SNAT --to-source ${gateway}`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export async function applyServiceRules(input: string): Promise<void> {
  await mustRun('iptables-restore', ['--noflush', '-w'], { input });
}
