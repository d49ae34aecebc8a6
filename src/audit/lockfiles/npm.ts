/**
 * `package-lock.json` (lockfileVersion 1, 2, 3) and `npm-shrinkwrap.json` (same format).
 * v2/v3 list every installed path under `packages`; v1 nests `dependencies`. Both are turned into
 * one path → entry map and edges are found with Node's own resolution (nearest `node_modules`).
 */
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { AuditInputError, parseJsonFile } from '../errors.js';
import { GraphBuilder, type DependencyGraph, type PackageNode } from '../types.js';
import { checkShape, readManifest } from './common.js';

const depMap = z.record(z.string(), z.string()).optional();
const entrySchema = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  resolved: z.string().optional(),
  integrity: z.string().optional(),
  license: z.string().optional(),
  dev: z.boolean().optional(),
  link: z.boolean().optional(),
  dependencies: depMap,
  optionalDependencies: depMap,
  peerDependencies: depMap,
  devDependencies: depMap,
});
type Entry = z.infer<typeof entrySchema>;

interface V1Entry {
  version: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  requires?: Record<string, string>;
  dependencies?: Record<string, V1Entry>;
}
const v1EntrySchema: z.ZodType<V1Entry> = z.lazy(() =>
  z.looseObject({
    version: z.string(),
    resolved: z.string().optional(),
    integrity: z.string().optional(),
    dev: z.boolean().optional(),
    requires: z.record(z.string(), z.string()).optional(),
    dependencies: z.record(z.string(), v1EntrySchema).optional(),
  }),
);

const lockSchema = z.looseObject({
  name: z.string().optional(),
  version: z.string().optional(),
  lockfileVersion: z.number().int().min(1).max(3),
  packages: z.record(z.string(), entrySchema).optional(),
  dependencies: z.record(z.string(), v1EntrySchema).optional(),
});

/**
 * Parses an npm lockfile. `readInstalled` also reads licences from `node_modules/…/package.json`
 * beside the lockfile when the lockfile does not carry them (v1 never does).
 *
 * @example
 * const graph = parseNpmLock('package-lock.json', readFileSync('package-lock.json', 'utf8'));
 */
export function parseNpmLock(file: string, text: string, options: { readInstalled?: boolean } = {}): DependencyGraph {
  const lock = checkShape(file, lockSchema, parseJsonFile(file, text));
  const entries = new Map<string, Entry>();
  let rootEntry: Entry;
  if (lock.packages !== undefined && lock.lockfileVersion >= 2) {
    for (const [path, entry] of Object.entries(lock.packages)) entries.set(path, entry);
    rootEntry = lock.packages[''] ?? {};
  } else {
    if (lock.dependencies === undefined) throw new AuditInputError(file, 'lockfileVersion 1 without "dependencies"');
    flattenV1(lock.dependencies, '', entries);
    // v1 does not record the project's own dependencies: the manifest beside it does.
    rootEntry = { ...readManifest(join(dirname(file), 'package.json')) };
  }
  const kind = basename(file) === 'npm-shrinkwrap.json' ? 'npm-shrinkwrap.json' : 'package-lock.json';
  const g = new GraphBuilder(file, `${kind} v${lock.lockfileVersion}`, 'npm', {
    name: rootEntry.name ?? lock.name ?? basename(dirname(file)),
    version: rootEntry.version ?? lock.version ?? '0.0.0',
  });

  const nodes = new Map<string, PackageNode>();
  const workspaces: string[] = [''];
  for (const [path, entry] of entries) {
    if (path === '' || entry.link === true) continue;
    if (!path.includes('node_modules/')) {
      workspaces.push(path); // a workspace folder: part of the project, its dependencies are direct
      continue;
    }
    if (entry.version === undefined) continue; // an optional dependency not installed on this platform
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const license = entry.license ?? (options.readInstalled === true ? readManifest(join(dirname(file), path, 'package.json'))?.license : undefined);
    nodes.set(path, g.add(name, entry.version, { integrity: entry.integrity, resolved: entry.resolved, license, dev: entry.dev === true }));
  }

  const resolve = (from: string, name: string): PackageNode | undefined => {
    let base = from;
    for (;;) {
      const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
      const node = nodes.get(candidate);
      if (node !== undefined) return node;
      const target = entries.get(candidate);
      if (target?.link === true) return undefined; // a workspace package: part of the project
      if (base === '') return undefined;
      const up = base.lastIndexOf('/node_modules/');
      base = up >= 0 ? base.slice(0, up) : '';
    }
  };
  const edges = (entry: Entry, withDev: boolean): [string, boolean][] => [
    ...Object.keys(entry.dependencies ?? {}).map((n): [string, boolean] => [n, true]),
    ...Object.keys(entry.optionalDependencies ?? {}).map((n): [string, boolean] => [n, false]),
    ...Object.keys(entry.peerDependencies ?? {}).map((n): [string, boolean] => [n, false]),
    ...(withDev ? Object.keys(entry.devDependencies ?? {}).map((n): [string, boolean] => [n, true]) : []),
  ];
  for (const ws of workspaces) {
    for (const [dep, required] of edges(ws === '' ? rootEntry : (entries.get(ws) ?? {}), true)) {
      const node = resolve(ws, dep);
      if (node !== undefined) g.markDirect(node);
      else if (required && !isWorkspaceLink(entries, dep)) g.warnings.push(`${file}: direct dependency ${dep} is not installed`);
    }
  }
  for (const [path, node] of nodes) {
    for (const [dep, required] of edges(entries.get(path) ?? {}, false)) {
      const target = resolve(path, dep);
      if (target !== undefined) node.dependencies.add(target.id);
      else if (required && !isWorkspaceLink(entries, dep)) g.warnings.push(`${file}: ${node.id} requires ${dep}, which is not installed`);
    }
  }
  return g.build();
}

function isWorkspaceLink(entries: Map<string, Entry>, name: string): boolean {
  return entries.get(`node_modules/${name}`)?.link === true;
}

/** v1 nests each package's private copies under its own `dependencies`; give each its v2 path. */
function flattenV1(deps: Record<string, V1Entry>, prefix: string, into: Map<string, Entry>): void {
  for (const [key, e] of Object.entries(deps)) {
    const path = `${prefix}node_modules/${key}`;
    // An alias (`"lodash4": { "version": "npm:lodash@4.17.21" }`) installs the real package under another folder.
    const alias = /^npm:((?:@[^/@]+\/)?[^@]+)@(.+)$/.exec(e.version);
    into.set(path, {
      name: alias?.[1] ?? key,
      version: alias?.[2] ?? e.version,
      resolved: e.resolved,
      integrity: e.integrity,
      dev: e.dev,
      dependencies: e.requires,
    });
    if (e.dependencies !== undefined) flattenV1(e.dependencies, `${path}/`, into);
  }
}
