/**
 * `pnpm-lock.yaml`, lockfile versions 5.x (`/name/1.0.0` keys), 6.x (`/name@1.0.0`) and 9.x
 * (`name@1.0.0`, dependencies moved to `snapshots`). Peer-dependency suffixes (`(react@18.2.0)`,
 * v5 `_react@18.2.0`) are variants of one installed version, so they collapse into one node.
 */
import { z } from 'zod';
import { AuditInputError } from '../errors.js';
import { GraphBuilder, type DependencyGraph, type PackageNode } from '../types.js';
import { checkShape } from './common.js';
import { splitSpec } from './yarn.js';
import { parseYamlFile } from './yaml-doc.js';

const refs = z.record(z.string(), z.union([z.string(), z.number(), z.looseObject({ version: z.union([z.string(), z.number()]) })])).optional();
const importer = z.looseObject({ dependencies: refs, devDependencies: refs, optionalDependencies: refs });
const pkg = z.looseObject({
  name: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional(),
  resolution: z.looseObject({ integrity: z.string().optional(), tarball: z.string().optional() }).optional(),
  dependencies: refs,
  optionalDependencies: refs,
  dev: z.boolean().optional(),
});
const lockSchema = z.looseObject({
  lockfileVersion: z.union([z.string(), z.number()]),
  importers: z.record(z.string(), importer).optional(),
  dependencies: refs,
  devDependencies: refs,
  optionalDependencies: refs,
  packages: z.record(z.string(), pkg).optional(),
  snapshots: z.record(z.string(), pkg).optional(),
});

/**
 * Parses pnpm-lock.yaml.
 *
 * @example
 * const graph = parsePnpmLock('pnpm-lock.yaml', readFileSync('pnpm-lock.yaml', 'utf8'));
 */
export function parsePnpmLock(file: string, text: string): DependencyGraph {
  const lock = checkShape(file, lockSchema, parseYamlFile(file, text));
  const major = Number.parseFloat(String(lock.lockfileVersion));
  if (!Number.isFinite(major)) throw new AuditInputError(file, `lockfileVersion: not a number (${String(lock.lockfileVersion)})`);
  const g = new GraphBuilder(file, `pnpm-lock.yaml v${String(lock.lockfileVersion)}`, 'npm', { name: 'project', version: '0.0.0' });

  /** `/@scope/name/1.0.0_peer`, `/name@1.0.0(peer)` or `name@1.0.0(peer)` → name and bare version. */
  const parseKey = (key: string): { name: string; version: string } => {
    const bare = key.replace(/^\//, '').replace(/\(.*$/, '');
    if (major < 6) {
      const slash = bare.lastIndexOf('/');
      return { name: bare.slice(0, slash), version: bare.slice(slash + 1).replace(/_.*$/, '') };
    }
    return { name: splitSpec(bare).name, version: splitSpec(bare).range };
  };
  const nodes = new Map<string, PackageNode>();
  const entries: [string, z.infer<typeof pkg>][] = [];
  for (const [key, p] of Object.entries(lock.packages ?? {})) {
    const parsed = parseKey(key);
    const name = p.name ?? parsed.name;
    const version = p.version !== undefined ? String(p.version) : parsed.version;
    const node = g.add(name, version, { integrity: p.resolution?.integrity, resolved: p.resolution?.tarball, dev: p.dev === true });
    nodes.set(`${parsed.name}@${parsed.version}`, node);
    entries.push([key, p]);
  }
  // v9 keeps each variant's dependencies in `snapshots`.
  for (const [key, s] of Object.entries(lock.snapshots ?? {})) entries.push([key, s]);

  /** A dependency reference: a version (maybe with peer suffix), an alias `other@1.0.0`, or a v5/v6 key. */
  const resolve = (dep: string, ref: string | number | { version: string | number }): PackageNode | undefined => {
    const text = typeof ref === 'object' ? String(ref.version) : String(ref);
    if (/^(link|file|workspace):/.test(text)) return undefined;
    if (text.startsWith('/')) return nodes.get(keyId(parseKey(text)));
    let bare = text.replace(/\(.*$/, '');
    if (major < 6) bare = bare.replace(/_.*$/, '');
    if (/^@?[^@]+@\d/.test(bare)) return nodes.get(keyId(parseKey(bare)));
    return nodes.get(`${dep}@${bare}`);
  };
  for (const [key, p] of entries) {
    const from = nodes.get(keyId(parseKey(key)));
    if (from === undefined) continue;
    for (const [dep, ref] of Object.entries({ ...p.dependencies, ...p.optionalDependencies })) {
      const target = resolve(dep, ref);
      if (target !== undefined) from.dependencies.add(target.id);
    }
  }
  const importers = lock.importers ?? { '.': { dependencies: lock.dependencies, devDependencies: lock.devDependencies, optionalDependencies: lock.optionalDependencies } };
  const production = new Set<string>();
  for (const imp of Object.values(importers)) {
    for (const [kind, deps] of [['prod', imp.dependencies], ['dev', imp.devDependencies], ['prod', imp.optionalDependencies]] as const) {
      for (const [dep, ref] of Object.entries(deps ?? {})) {
        const node = resolve(dep, ref);
        if (node === undefined) continue;
        g.markDirect(node);
        if (kind === 'prod') production.add(node.id);
      }
    }
  }
  g.deriveDev(production);
  return g.build();
}

function keyId(k: { name: string; version: string }): string {
  return `${k.name}@${k.version}`;
}
