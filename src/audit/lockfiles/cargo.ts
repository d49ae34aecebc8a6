/**
 * `Cargo.lock` (v1–v4). Cargo writes a fixed subset of TOML (`[[package]]` tables of quoted strings
 * and one string array), so a line reader is enough and reports errors by line. Packages without
 * `source` are the workspace's own crates; their dependencies are the direct ones.
 */
import { AuditInputError } from '../errors.js';
import { GraphBuilder, type DependencyGraph, type PackageNode } from '../types.js';

interface Crate {
  fields: Map<string, string>;
  deps: string[];
  line: number;
}

/**
 * Parses Cargo.lock.
 *
 * @example
 * const graph = parseCargoLock('Cargo.lock', readFileSync('Cargo.lock', 'utf8'));
 */
export function parseCargoLock(file: string, text: string): DependencyGraph {
  const crates: Crate[] = [];
  let current: Crate | undefined;
  let inArray = false;
  let version = '1';
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const at = { line: index + 1, column: raw.length - raw.trimStart().length + 1 };
    if (line === '' || line.startsWith('#')) return;
    if (inArray) {
      if (line === ']') inArray = false;
      else current!.deps.push(unquote(file, line.replace(/,$/, ''), at));
      return;
    }
    if (line === '[[package]]') {
      current = { fields: new Map(), deps: [], line: at.line };
      crates.push(current);
      return;
    }
    if (line.startsWith('[')) {
      current = undefined; // [metadata], [[patch.unused]]: nothing to audit
      return;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (kv === null) throw new AuditInputError(file, 'expected key = value', at);
    const [, key, value] = kv as unknown as [string, string, string];
    if (current === undefined) {
      if (key === 'version') version = value;
      return;
    }
    if (key === 'dependencies') {
      if (value === '[') inArray = true;
      else if (/^\[.*\]$/.test(value)) current.deps.push(...value.slice(1, -1).split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => unquote(file, s, at)));
      else throw new AuditInputError(file, 'dependencies must be an array', at);
      return;
    }
    current.fields.set(key, unquote(file, value, at));
  });

  const members = crates.filter((c) => !c.fields.has('source'));
  const g = new GraphBuilder(file, `Cargo.lock v${version}`, 'crates.io', {
    name: members[0]?.fields.get('name') ?? 'workspace',
    version: members[0]?.fields.get('version') ?? '0.0.0',
  });
  const byName = new Map<string, PackageNode[]>();
  const nodes = new Map<Crate, PackageNode>();
  for (const c of crates) {
    const name = c.fields.get('name');
    const ver = c.fields.get('version');
    if (name === undefined || ver === undefined) throw new AuditInputError(file, 'package without name or version', { line: c.line, column: 1 });
    if (!c.fields.has('source')) continue;
    const checksum = c.fields.get('checksum');
    const node = g.add(name, ver, { integrity: checksum !== undefined ? `sha256:${checksum}` : undefined, resolved: c.fields.get('source') });
    nodes.set(c, node);
    byName.set(name, [...(byName.get(name) ?? []), node]);
  }
  // A dependency is "name", or "name version" when several versions exist, plus "(source)" when ambiguous.
  const resolve = (ref: string): PackageNode | undefined => {
    const [name, ver] = ref.split(' ');
    const candidates = byName.get(name!) ?? [];
    return ver === undefined ? candidates[0] : candidates.find((n) => n.version === ver);
  };
  for (const c of crates) {
    const from = nodes.get(c);
    for (const ref of c.deps) {
      const target = resolve(ref);
      if (target === undefined) continue; // another workspace member
      if (from !== undefined) from.dependencies.add(target.id);
      else g.markDirect(target);
    }
  }
  return g.build();
}

function unquote(file: string, value: string, at: { line: number; column: number }): string {
  if (!/^"(?:[^"\\]|\\.)*"$/.test(value)) throw new AuditInputError(file, `expected a quoted string, got ${value.slice(0, 40)}`, at);
  return JSON.parse(value) as string;
}
