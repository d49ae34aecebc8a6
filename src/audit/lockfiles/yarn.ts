/**
 * `yarn.lock`: classic (v1, Yarn's own indented format) and berry (Yarn 2+, YAML with `__metadata`).
 * Neither says which dependencies are the project's own for certain; classic is matched against the
 * `package.json` beside it, berry lists them under its `workspace:` entries.
 */
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AuditInputError } from '../errors.js';
import { GraphBuilder, type DependencyGraph, type PackageNode } from '../types.js';
import { checkShape, manifestDeps, readManifest } from './common.js';
import { parseYamlFile } from './yaml-doc.js';

/**
 * Splits `name@range` (the name may be scoped).
 *
 * @example
 * splitSpec('@babel/core@^7'); // { name: '@babel/core', range: '^7' }
 */
export function splitSpec(spec: string): { name: string; range: string } {
  const at = spec.indexOf('@', 1);
  return at < 0 ? { name: spec, range: '' } : { name: spec.slice(0, at), range: spec.slice(at + 1) };
}

/**
 * Parses either yarn.lock flavour.
 *
 * @example
 * const graph = parseYarnLock('yarn.lock', readFileSync('yarn.lock', 'utf8'));
 */
export function parseYarnLock(file: string, text: string): DependencyGraph {
  return /^__metadata:/m.test(text) ? parseBerry(file, text) : parseClassic(file, text);
}

interface ClassicEntry {
  specs: string[];
  fields: Map<string, string>;
  blocks: Map<string, Map<string, string>>;
  line: number;
}

/** Tokens of one classic line: bare words or JSON-quoted strings, separated by spaces. */
function tokenize(file: string, line: string, lineNo: number): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    if (line[i] === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (j >= line.length) throw new AuditInputError(file, 'unterminated string', { line: lineNo, column: i + 1 });
      tokens.push(JSON.parse(line.slice(i, j + 1)) as string);
      i = j + 1;
    } else {
      let j = i;
      while (j < line.length && line[j] !== ' ') j++;
      tokens.push(line.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function parseClassic(file: string, text: string): DependencyGraph {
  const entries: ClassicEntry[] = [];
  let entry: ClassicEntry | undefined;
  let block: Map<string, string> | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 0) {
      if (!line.endsWith(':')) throw new AuditInputError(file, 'expected a package key ending in ":"', { line: lineNo, column: raw.length });
      const specs = line
        .slice(0, -1)
        .split(/,\s*/)
        .map((s) => (s.startsWith('"') ? tokenize(file, s, lineNo)[0]! : s));
      entry = { specs, fields: new Map(), blocks: new Map(), line: lineNo };
      block = undefined;
      entries.push(entry);
      return;
    }
    if (entry === undefined) throw new AuditInputError(file, 'indented line outside any package', { line: lineNo, column: 1 });
    if (indent === 2) {
      if (line.endsWith(':')) {
        block = new Map();
        entry.blocks.set(line.slice(0, -1), block);
        return;
      }
      const tokens = tokenize(file, line, lineNo);
      if (tokens.length !== 2) throw new AuditInputError(file, 'expected "key value"', { line: lineNo, column: indent + 1 });
      entry.fields.set(tokens[0]!, tokens[1]!);
      block = undefined;
      return;
    }
    if (block === undefined) throw new AuditInputError(file, 'unexpected indentation', { line: lineNo, column: indent + 1 });
    const tokens = tokenize(file, line, lineNo);
    if (tokens.length !== 2) throw new AuditInputError(file, 'expected "name range"', { line: lineNo, column: indent + 1 });
    block.set(tokens[0]!, tokens[1]!);
  });

  const manifest = readManifest(join(dirname(file), 'package.json'));
  const g = new GraphBuilder(file, 'yarn.lock (classic v1)', 'npm', { name: manifest?.name ?? 'project', version: manifest?.version ?? '0.0.0' });
  const bySpec = new Map<string, PackageNode>();
  const nodes: [ClassicEntry, PackageNode][] = [];
  for (const e of entries) {
    const version = e.fields.get('version');
    if (version === undefined) throw new AuditInputError(file, `package ${e.specs.join(', ')} has no version`, { line: e.line, column: 1 });
    const { name, range } = splitSpec(e.specs[0]!);
    // An alias (`foo@npm:bar@^1`) installs `bar`.
    const real = range.startsWith('npm:') ? splitSpec(range.slice(4)).name : name;
    const node = g.add(real, version, { integrity: e.fields.get('integrity'), resolved: e.fields.get('resolved') });
    for (const spec of e.specs) bySpec.set(spec, node);
    nodes.push([e, node]);
  }
  for (const [e, node] of nodes) {
    for (const kind of ['dependencies', 'optionalDependencies']) {
      for (const [dep, range] of e.blocks.get(kind) ?? []) {
        const target = bySpec.get(`${dep}@${range}`);
        if (target !== undefined) node.dependencies.add(target.id);
        else if (kind === 'dependencies') g.warnings.push(`${file}: ${node.id} requires ${dep}@${range}, which is not in the lockfile`);
      }
    }
  }
  if (manifest !== undefined) {
    const production = new Set<string>();
    for (const [dep, range] of manifestDeps(manifest)) {
      const node = bySpec.get(`${dep}@${range}`);
      if (node === undefined) continue;
      g.markDirect(node);
      if (manifest.devDependencies?.[dep] === undefined) production.add(node.id);
    }
    g.deriveDev(production);
  }
  return g.build();
}

const berryEntry = z.looseObject({
  version: z.string(),
  resolution: z.string(),
  dependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
  checksum: z.string().optional(),
  linkType: z.string().optional(),
});
const berrySchema = z.record(z.string(), z.unknown());

function parseBerry(file: string, text: string): DependencyGraph {
  const lock = checkShape(file, berrySchema, parseYamlFile(file, text));
  const metadata = checkShape(file, z.looseObject({ __metadata: z.looseObject({ version: z.union([z.number(), z.string()]) }) }), lock).__metadata;
  const manifest = readManifest(join(dirname(file), 'package.json'));
  const g = new GraphBuilder(file, `yarn.lock (berry v${metadata.version})`, 'npm', { name: manifest?.name ?? 'project', version: manifest?.version ?? '0.0.0' });
  const byDescriptor = new Map<string, PackageNode>();
  const workspaces: z.infer<typeof berryEntry>[] = [];
  const nodes: [z.infer<typeof berryEntry>, PackageNode][] = [];
  for (const [key, value] of Object.entries(lock)) {
    if (key === '__metadata') continue;
    const e = checkShape(file, z.record(z.string(), berryEntry), { [key]: value })[key]!;
    if (/@workspace:/.test(e.resolution)) {
      workspaces.push(e); // the project itself (or one of its workspaces)
      continue;
    }
    const node = g.add(splitSpec(e.resolution).name, e.version);
    for (const descriptor of key.split(/,\s*/)) byDescriptor.set(descriptor.trim(), node);
    nodes.push([e, node]);
  }
  const lookup = (dep: string, range: string): PackageNode | undefined =>
    byDescriptor.get(`${dep}@${range}`) ?? byDescriptor.get(`${dep}@npm:${range}`);
  for (const [e, node] of nodes) {
    for (const [dep, range] of Object.entries({ ...e.dependencies, ...e.optionalDependencies })) {
      const target = lookup(dep, range);
      if (target !== undefined) node.dependencies.add(target.id);
    }
  }
  const production = new Set<string>();
  for (const ws of workspaces) {
    for (const [dep, range] of Object.entries({ ...ws.dependencies, ...ws.optionalDependencies })) {
      const node = lookup(dep, range);
      if (node === undefined) continue;
      g.markDirect(node);
      if (manifest?.devDependencies?.[dep] === undefined) production.add(node.id);
    }
  }
  g.deriveDev(production);
  return g.build();
}
