// Where the installed Fathom package lives and what its package.json says (name, version).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the nearest directory above this module holding a package.json. It works the same
 * from the compiled tree (dist/src/cli/) and from an installed package, and is how tests find files
 * that stay in the source tree (test/golden/...).
 */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(from)}`);
    dir = parent;
  }
  return dir;
}

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (!cached) {
    const json = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as Partial<PackageInfo>;
    cached = { name: json.name ?? 'fathom', version: json.version ?? 'unknown' };
  }
  return cached;
}
