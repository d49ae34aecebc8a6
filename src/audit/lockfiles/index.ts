/**
 * Finds the lockfiles in a project directory and parses each with its format's parser.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AuditInputError } from '../errors.js';
import type { DependencyGraph } from '../types.js';
import { parseCargoLock } from './cargo.js';
import { parseNpmLock } from './npm.js';
import { parsePnpmLock } from './pnpm.js';
import { parseRequirements } from './python.js';
import { parseYarnLock } from './yarn.js';

/** Lockfile names Rampart reads, in the order they are looked for. */
export const LOCKFILE_NAMES = ['npm-shrinkwrap.json', 'package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'requirements.txt', 'Cargo.lock'] as const;

/** Lockfiles larger than this are refused rather than read into memory (bytes; 256 MiB). */
const MAX_LOCKFILE_BYTES = 256 * 1024 * 1024;

export interface ParseOptions {
  /** npm: read licences from the installed `node_modules/…/package.json` files (for SBOMs). */
  readInstalled?: boolean;
}

/**
 * Parses one lockfile, choosing the parser by file name.
 *
 * @example
 * const graph = parseLockfile('test/fixtures/audit/npm-v3/package-lock.json');
 */
export function parseLockfile(file: string, options: ParseOptions = {}): DependencyGraph {
  const name = basename(file);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new AuditInputError(file, 'cannot read file');
  }
  if (size > MAX_LOCKFILE_BYTES) throw new AuditInputError(file, `larger than ${MAX_LOCKFILE_BYTES} bytes`);
  const text = readFileSync(file, 'utf8');
  if (name === 'package-lock.json' || name === 'npm-shrinkwrap.json') return parseNpmLock(file, text, options);
  if (name === 'yarn.lock') return parseYarnLock(file, text);
  if (name === 'pnpm-lock.yaml') return parsePnpmLock(file, text);
  if (name === 'Cargo.lock') return parseCargoLock(file, text);
  if (/requirements.*\.txt$/.test(name)) return parseRequirements(file, text);
  throw new AuditInputError(file, `unknown lockfile type (expected one of ${LOCKFILE_NAMES.join(', ')})`);
}

/**
 * The lockfiles to audit for `target`: the file itself, or every known lockfile in the directory.
 * npm ignores package-lock.json when npm-shrinkwrap.json exists, so we do too.
 */
export function findLockfiles(target: string): string[] {
  if (!existsSync(target)) throw new AuditInputError(target, 'no such file or directory');
  if (!statSync(target).isDirectory()) return [target];
  const found = LOCKFILE_NAMES.map((n) => join(target, n)).filter((f) => existsSync(f));
  const files = found.some((f) => basename(f) === 'npm-shrinkwrap.json') ? found.filter((f) => basename(f) !== 'package-lock.json') : found;
  if (files.length === 0) throw new AuditInputError(target, `no lockfile found (looked for ${LOCKFILE_NAMES.join(', ')})`);
  return files;
}
