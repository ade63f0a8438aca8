// Socket addresses as the mesh writes them: `host:port`, with IPv6 hosts in brackets.
import { isIP } from 'node:net';

export interface SocketAddr {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). Errors are values: a string naming what is wrong. */
export function parseSocketAddr(text: string, defaultHost = '0.0.0.0'): SocketAddr | string {
  const trimmed = text.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
    if (isIP(host) !== 6) return `"${text}" is not a valid address: "${host}" is not an IPv6 address`;
  } else {
    const at = trimmed.lastIndexOf(':');
    if (at < 0) return `"${text}" is not a valid address: expected host:port`;
    host = trimmed.slice(0, at) || defaultHost;
    portText = trimmed.slice(at + 1);
    if (host.includes(':')) return `"${text}" is not a valid address: write IPv6 hosts in brackets, [::1]:4140`;
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return `"${text}" is not a valid address: bad host "${host}"`;
  }
  const port = parsePort(portText);
  if (typeof port === 'string') return `"${text}" is not a valid address: ${port}`;
  return { host, port };
}

/** Parses a TCP port number 0..65535; returns an error string otherwise. */
export function parsePort(text: string): number | string {
  if (!/^\d{1,5}$/.test(text.trim())) return `"${text}" is not a port number`;
  const port = Number(text);
  if (port > 65535) return `port ${port} is out of range (0-65535)`;
  return port;
}

/** Parses a list of ports and ranges, `25,587,3306,4000-4010`, into a set. Returns an error string on bad input. */
export function parsePortList(text: string): Set<number> | string {
  const ports = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const lo = parsePort(range[1]!);
      const hi = parsePort(range[2]!);
      if (typeof lo === 'string') return lo;
      if (typeof hi === 'string') return hi;
      if (lo > hi) return `port range "${part}" is reversed`;
      for (let p = lo; p <= hi; p++) ports.add(p);
      continue;
    }
    const port = parsePort(part);
    if (typeof port === 'string') return port;
    ports.add(port);
  }
  return ports;
}

export function formatSocketAddr(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
