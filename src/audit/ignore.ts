/**
 * Accepted risks: `rampart audit --ignore ID --reason TEXT [--expires 30d]` records an exception
 * with a reason and an expiry date in `.rampart-audit-ignore.json` (commit it: it is a review trail).
 * An expired exception stops hiding its finding, so accepted risk is re-examined.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { AuditInputError, parseJsonFile } from './errors.js';
import { checkShape } from './lockfiles/common.js';

export const IGNORE_FILE = '.rampart-audit-ignore.json';

const ignoreSchema = z.strictObject({
  id: z.string().min(1),
  reason: z.string().min(1),
  /** ISO 8601 timestamp after which the exception no longer applies. */
  expires: z.iso.datetime(),
  added: z.iso.datetime(),
});
const fileSchema = z.strictObject({ version: z.literal(1), ignores: z.array(ignoreSchema) });
export type IgnoreEntry = z.infer<typeof ignoreSchema>;

/**
 * Reads the exceptions file; a missing file means none.
 *
 * @example
 * const ignores = readIgnores('.rampart-audit-ignore.json');
 */
export function readIgnores(file: string): IgnoreEntry[] {
  if (!existsSync(file)) return [];
  return checkShape(file, fileSchema, parseJsonFile(file, readFileSync(file, 'utf8'))).ignores;
}

/** Adds (or replaces) the exception for `id` and writes the file back. */
export function addIgnore(file: string, entry: { id: string; reason: string; expiresAt: number; now: number }): IgnoreEntry {
  if (entry.reason.trim() === '') throw new AuditInputError(file, '--reason must not be empty');
  const ignores = readIgnores(file).filter((i) => i.id !== entry.id);
  const added: IgnoreEntry = { id: entry.id, reason: entry.reason, expires: new Date(entry.expiresAt).toISOString(), added: new Date(entry.now).toISOString() };
  ignores.push(added);
  writeFileSync(file, `${JSON.stringify({ version: 1, ignores }, null, 2)}\n`);
  return added;
}
