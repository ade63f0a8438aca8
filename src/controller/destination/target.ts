// Parses what a proxy asks the destination service about (`GetDestination.path`, a `host:port`) and the
// context token it sends with it, into a target the watchers understand.
import { isIP } from 'node:net';

export type Target =
  /** A Service by name; `port` is the Service port asked for. */
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string; readonly port: number }
  /** An IP: a Service's cluster IP, a pod's IP, or something unknown. */
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number }
  /** A name outside the cluster's domain: the controller knows nothing of it. */
  | { readonly kind: 'external'; readonly host: string; readonly port: number };

/** Reads `{"ns": "..."}` from a context token; undefined when absent or unreadable (the token is optional). */
export function contextNamespace(token: string): string | undefined {
  if (token.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(token) as { ns?: unknown } | null;
    return typeof parsed?.ns === 'string' && parsed.ns !== '' ? parsed.ns : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses `host:port`. Names are resolved as Kubernetes DNS does: `svc` (in the client's namespace, else
 * `default`), `svc.ns`, `svc.ns.svc` and `svc.ns.svc.<cluster-domain>`, with an optional trailing dot.
 * Errors are values: a message naming the path and what was expected.
 */
export function parseTarget(path: string, clusterDomain: string, clientNamespace: string | undefined): Target | string {
  const bad = (why: string) => `path "${path}" is not a valid destination: ${why}`;
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(path);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
    if (isIP(host) !== 6) return bad(`"${host}" is not an IPv6 address`);
  } else {
    const at = path.lastIndexOf(':');
    if (at <= 0) return bad('expected host:port');
    host = path.slice(0, at);
    portText = path.slice(at + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return bad(`"${portText}" is not a port number (1-65535)`);
  }
  const port = Number(portText);
  if (isIP(host) !== 0) return { kind: 'ip', ip: host, port };

  const name = host.toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.includes('..')) return bad(`"${host}" is not a DNS name`);
  const labels = name.split('.');
  const suffix = `svc.${clusterDomain}`;
  if (labels.length === 1) return { kind: 'service', namespace: clientNamespace ?? 'default', name: labels[0]!, port };
  if (labels.length === 2) return { kind: 'service', namespace: labels[1]!, name: labels[0]!, port };
  if (labels.length === 3 && labels[2] === 'svc') return { kind: 'service', namespace: labels[1]!, name: labels[0]!, port };
  if (labels.length >= 3 && labels.slice(2).join('.') === suffix) {
    return { kind: 'service', namespace: labels[1]!, name: labels[0]!, port };
  }
  return { kind: 'external', host: name, port };
}
