// Finding the system proxies the benchmark compares with (Debian's nginx and haproxy, installed by
// scripts/setup.sh).
import { existsSync } from 'node:fs';

export function findBinary(name: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}
