// Converts between textual IP addresses and the wire form of fathom.net (IPv4 as one 32-bit word, IPv6
// as two 64-bit halves), for both the controller and the proxy.
import { isIP } from 'node:net';
import type { IPAddress, TcpAddress } from './gen/fathom/net.js';

/** Encodes an IPv4 or IPv6 address; throws on anything else (callers pass addresses they validated). */
export function ipToProto(ip: string): IPAddress {
  const family = isIP(ip);
  if (family === 4) {
    const word = ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
    return { ip: { $case: 'ipv4', value: word } };
  }
  if (family === 6) {
    const hex = expandIPv6(ip);
    return { ip: { $case: 'ipv6', value: { first: BigInt(`0x${hex.slice(0, 16)}`), last: BigInt(`0x${hex.slice(16)}`) } } };
  }
  throw new Error(`"${ip}" is not an IP address`);
}

/** Decodes to the usual text (dotted quad, or compressed IPv6); undefined when the address is unset. */
export function ipFromProto(addr: IPAddress | undefined): string | undefined {
  const ip = addr?.ip;
  if (!ip) return undefined;
  if (ip.$case === 'ipv4') {
    const w = ip.value >>> 0;
    return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
  }
  const hex = ip.value.first.toString(16).padStart(16, '0') + ip.value.last.toString(16).padStart(16, '0');
  const groups = (hex.match(/.{4}/g) ?? []).map((g) => g.replace(/^0+(?=.)/, ''));
  return compressIPv6(groups);
}

export function tcpAddressToProto(ip: string, port: number): TcpAddress {
  return { ip: ipToProto(ip), port };
}

/** `ip:port`, with IPv6 in brackets; undefined when the address has no IP. */
export function tcpAddressToString(addr: TcpAddress | undefined): string | undefined {
  const ip = ipFromProto(addr?.ip);
  if (ip === undefined || !addr) return undefined;
  return ip.includes(':') ? `[${ip}]:${addr.port}` : `${ip}:${addr.port}`;
}

/** The 32 hex digits of an IPv6 address (an embedded IPv4 tail is converted). */
function expandIPv6(ip: string): string {
  let text = ip.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...zeros, ...t].map((g) => g.padStart(4, '0')).join('');
}

/** RFC 5952 text: the longest run (of two or more) of zero groups becomes `::`. */
function compressIPv6(groups: string[]): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestAt < 0) return groups.join(':');
  return `${groups.slice(0, bestAt).join(':')}::${groups.slice(bestAt + bestLen).join(':')}`;
}
