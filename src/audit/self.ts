/**
 * Where Rampart itself is installed, for `rampart audit --self` and `rampart sbom --self`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding Rampart's own package.json (and its lockfile), found by walking up from
 * this module, so it works from src/ (tsx), dist/ and an installed node_modules/rampart alike.
 *
 * @example
 * rampartHome(); // '/usr/lib/node_modules/rampart'
 */
export function rampartHome(): { dir: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rampart') return { dir, version: pkg.version ?? '0.0.0' };
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the Rampart installation (no package.json named "rampart" above this module)');
    dir = up;
  }
}
