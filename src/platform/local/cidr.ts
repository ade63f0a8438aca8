// IPv4 CIDR ranges of the local platform (pods, services): parsing, containment, and the addresses a
// range hands out. Errors are values naming the input.

export interface Cidr {
  /** The network address as a 32-bit unsigned number. */
  readonly base: number;
  readonly prefix: number;
  /** `198.18.0.0/16`, normalised. */
  readonly text: string;
}

export function ipToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** Parses `a.b.c.d/len`; the address must be the network's own (no host bits set). */
export function parseCidr(text: string): Cidr | string {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  const base = m ? ipToNumber(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || base === undefined || !(prefix >= 0 && prefix <= 32)) return `"${text}" is not an IPv4 CIDR such as 198.18.0.0/16`;
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return `"${text}" has host bits set; the network is ${numberToIp(base - (base % size))}/${prefix}`;
  return { base, prefix, text: `${numberToIp(base)}/${prefix}` };
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function contains(cidr: Cidr, ip: string): boolean {
  const n = ipToNumber(ip);
  return n !== undefined && n >= cidr.base && n < cidr.base + cidrSize(cidr);
}

/** `inner` lies entirely inside `outer`. */
export function within(inner: Cidr, outer: Cidr): boolean {
  return inner.base >= outer.base && inner.base + cidrSize(inner) <= outer.base + cidrSize(outer);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

/** The n-th address of the range (0 is the network address). */
export function nthAddress(cidr: Cidr, n: number): string {
  return numberToIp(cidr.base + n);
}

/**
 * A free address of the range: the first not in `used`, searching from offset `from` and wrapping, never
 * the network address, the first host address (`reserved` low offsets) or the broadcast address.
 */
export function freeAddress(cidr: Cidr, used: ReadonlySet<string>, reserved: number, from = reserved + 1): string | undefined {
  const size = cidrSize(cidr);
  const first = reserved + 1;
  const last = size - 2;
  if (last < first) return undefined;
  const span = last - first + 1;
  const start = Math.min(Math.max(from, first), last);
  for (let i = 0; i < span; i++) {
    const offset = first + ((start - first + i) % span);
    const ip = nthAddress(cidr, offset);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}
