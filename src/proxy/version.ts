// The proxy's version, read once from package.json (proxy_build_info, `fathom check` compares it).
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    // dist/src/proxy → the project root is three levels up.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'dev';
  } catch {
    return 'dev';
  }
}

export const PROXY_VERSION = readVersion();
