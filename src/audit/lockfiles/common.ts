import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { AuditInputError } from '../errors.js';

/**
 * Validates parsed lockfile data; the first problem is reported with its path inside the document.
 *
 * @example
 * checkShape('package-lock.json', z.object({ lockfileVersion: z.number() }), data); // throws AuditInputError naming the field
 */
export function checkShape<T extends z.ZodType>(file: string, schema: T, data: unknown): z.infer<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  throw new AuditInputError(file, `${where === '' ? 'document' : where}: ${issue.message}`);
}

/** The dependency lists of a `package.json`, if one exists and parses; never throws. */
export interface Manifest {
  name?: string;
  version?: string;
  license?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * Reads a package.json beside a lockfile.
 *
 * @example
 * readManifest('app/package.json')?.devDependencies; // { vitest: '^4.0.0' }
 */
export function readManifest(path: string): Manifest | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof data !== 'object' || data === null) return undefined;
    const m = data as Record<string, unknown>;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const rec = (v: unknown): Record<string, string> | undefined =>
      typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : undefined;
    return {
      name: str(m.name),
      version: str(m.version),
      license: str(m.license),
      dependencies: rec(m.dependencies),
      devDependencies: rec(m.devDependencies),
      optionalDependencies: rec(m.optionalDependencies),
      peerDependencies: rec(m.peerDependencies),
    };
  } catch {
    // A broken manifest only costs us the direct/transitive split, which falls back to inference.
    return undefined;
  }
}

/**
 * Every `name: range` pair a manifest declares, dev ones included.
 *
 * @example
 * manifestDeps({ dependencies: { a: '^1' }, devDependencies: { b: '2' } }); // [['a', '^1'], ['b', '2']]
 */
export function manifestDeps(m: Manifest): [string, string][] {
  return [m.dependencies, m.devDependencies, m.optionalDependencies, m.peerDependencies].flatMap((d) => Object.entries(d ?? {}));
}
