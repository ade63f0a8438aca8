// A pod's network: its own namespace with loopback, a veth whose host end is routed as a /32 (no
// bridge: every packet between pods is routed, so it crosses the host's conntrack, DNAT and fence), and
// the files `ip netns exec` bind-mounts over /etc/hosts and /etc/resolv.conf for the pod.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorCode } from '../../lib/errors.js';
import type { LocalConfig } from './config.js';
import { mustRun, run } from './exec.js';
import { writeInPlace } from './files.js';
import { createShared } from './shared-host.js';

export const ETC_NETNS = '/etc/netns';

export interface PodNetwork {
  readonly netns: string;
  readonly hostVeth: string;
  readonly ip: string;
}

export function etcDir(netns: string): string {
  return join(ETC_NETNS, netns);
}

/** No nameserver: name lookups end at the pod's hosts file, and nothing is asked off the host. */
export const RESOLV_CONF = '# fathom: names resolve through /etc/hosts only; there is no DNS server.\noptions ndots:1\n';

/** Creates the namespace, veth, addresses and routes. On failure, whatever was made is removed. */
export async function createPodNetwork(config: LocalConfig, pod: PodNetwork, hosts: string): Promise<void> {
  try {
    // Under the host lock: another instance's `down` may be removing an empty /etc/netns right now.
    await createShared([{ kind: 'dir', path: ETC_NETNS }], async () => mkdirSync(etcDir(pod.netns), { recursive: true, mode: 0o755 }));
    writeInPlace(join(etcDir(pod.netns), 'hosts'), hosts);
    writeInPlace(join(etcDir(pod.netns), 'resolv.conf'), RESOLV_CONF);
    await mustRun('ip', ['netns', 'add', pod.netns]);
    const inPod = (...args: string[]) => mustRun('ip', ['-n', pod.netns, ...args]);
    await inPod('link', 'set', 'lo', 'up');
    await mustRun('ip', ['link', 'add', pod.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.netns]);
    // Forwarding per interface: packets from this pod may be routed on; the host's global
    // net.ipv4.ip_forward is left alone. IPv6 stays off on the host end: the fence is IPv4.
    await mustRun('sysctl', ['-qw', `net.ipv4.conf.${pod.hostVeth}.forwarding=1`]);
    await run('sysctl', ['-qw', `net.ipv6.conf.${pod.hostVeth}.disable_ipv6=1`]);
    await inPod('addr', 'add', `${pod.ip}/32`, 'dev', 'eth0');
    await inPod('link', 'set', 'eth0', 'up');
    await inPod('route', 'add', config.gateway, 'dev', 'eth0', 'scope', 'link');
    // Only the pod and service ranges are routed: anything else fails at once inside the pod.
    await inPod('route', 'add', config.podCidr, 'via', config.gateway, 'dev', 'eth0', 'src', pod.ip);
    await inPod('route', 'add', config.serviceCidr, 'via', config.gateway, 'dev', 'eth0', 'src', pod.ip);
    await mustRun('ip', ['link', 'set', pod.hostVeth, 'up']);
    await mustRun('ip', ['route', 'add', `${pod.ip}/32`, 'dev', pod.hostVeth, 'src', config.gateway]);
  } catch (err) {
    await destroyPodNetwork(pod);
    throw err;
  }
}

/** Kills whatever still runs in the namespace, then removes the namespace, veth and /etc/netns files. */
export async function destroyPodNetwork(pod: Pick<PodNetwork, 'netns' | 'hostVeth'>): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', pod.netns]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch (err) {
      if (errorCode(err) !== 'ESRCH') throw err;
    }
  }
  if (pids.code === 0) await run('ip', ['netns', 'delete', pod.netns]);
  if ((await run('ip', ['link', 'show', 'dev', pod.hostVeth])).code === 0) await run('ip', ['link', 'delete', 'dev', pod.hostVeth]);
  rmSync(etcDir(pod.netns), { recursive: true, force: true });
}

export interface HostsService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
}

/**
 * A pod's hosts file: localhost, the pod itself, and every service under `svc.ns`, `svc.ns.svc` and
 * `svc.ns.svc.<domain>`, plus the bare `svc` for services of the pod's own namespace (what a
 * Kubernetes pod's DNS search path gives).
 */
export function renderHosts(pod: { namespace: string; name: string; ip: string }, services: readonly HostsService[], domain: string): string {
  const lines = ['# Managed by fathom: this pod and the services of the cluster.', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${pod.ip}\t${pod.name}`];
  const sorted = [...services].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  for (const s of sorted) {
    const fq = `${s.name}.${s.namespace}`;
    const names = [...(s.namespace === pod.namespace ? [s.name] : []), fq, `${fq}.svc`, `${fq}.svc.${domain}`];
    lines.push(`${s.clusterIP}\t${names.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/** Rewrites a running pod's hosts file in place; false when it did not change or the pod is gone. */
export function updateHosts(netns: string, content: string): boolean {
  try {
    return writeInPlace(join(etcDir(netns), 'hosts'), content);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}
