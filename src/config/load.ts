import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, crossReferenceIssues, type RampartConfig } from './schema.js';

/** A loaded, validated, frozen configuration and where it came from. */
export interface LoadedConfig {
  readonly config: RampartConfig;
  /** Absolute path of the file, or undefined for inline text. */
  readonly file: string | undefined;
  /** Directory that relative paths in the config resolve against. */
  readonly baseDir: string;
}

/** Thrown with every problem found, each naming its path (`routes[2].upstream: …`). */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], source: string) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads and validates a config file.
 *
 * @example
 *   const { config } = loadConfigFile('rampart.yaml');
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], abs);
  }
  return parseConfigText(text, { file: abs, env });
}

/** Validates config text (YAML or JSON). */
export function parseConfigText(
  text: string,
  options: { file?: string; baseDir?: string; env?: NodeJS.ProcessEnv } = {},
): LoadedConfig {
  const source = options.file ?? '<inline>';
  const baseDir = options.baseDir ?? (options.file !== undefined ? dirname(options.file) : process.cwd());
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`),
      source,
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const problems: string[] = [];
  const interpolated = interpolate(raw, [], options.env ?? process.env, baseDir, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    // zod skips refinements when the base shape fails; add the cross-section checks ourselves.
    const found = formatIssues(parsed.error.issues);
    for (const issue of crossReferenceIssues(interpolated)) {
      const line = `${formatPath(issue.path)}: ${issue.message}`;
      if (!found.includes(line)) found.push(line);
    }
    throw new ConfigError(found, source);
  }
  return { config: deepFreeze(parsed.data), file: options.file, baseDir };
}

/** `routes[2].upstream: unknown upstream "petz"` */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${formatPath(issue.path)}: ${describeIssue(issue)}`);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return `unknown or missing stage type (${issue.message})`;
  }
  return issue.message;
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

const PLACEHOLDER = /\$\{(env|file):([^}:]+)(?::-([^}]*))?\}/g;

/** Replaces `${env:NAME}`, `${env:NAME:-default}` and `${file:PATH}` in every string value. */
function interpolate(value: unknown, path: PropertyKey[], env: NodeJS.ProcessEnv, baseDir: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(PLACEHOLDER, (_m, kind: string, name: string, fallback: string | undefined) => {
      if (kind === 'env') {
        const v = env[name];
        if (v !== undefined) return v;
        if (fallback !== undefined) return fallback;
        problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return '';
      }
      try {
        return readFileSync(resolve(baseDir, name), 'utf8').trim();
      } catch (err) {
        problems.push(`${formatPath(path)}: cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
        return '';
      }
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], env, baseDir, problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, [...path, k], env, baseDir, problems);
    return out;
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
