/**
 * Report writers. Each turns a {@link Report} into one file's text; `writeReports` writes the
 * chosen formats into a directory as `rampart-<kind>.<ext>`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../types.js';
import { toSarif } from './sarif.js';
import { toJunit } from './junit.js';
import { toHtml } from './html.js';

export const FORMATS = {
  json: { ext: 'json', render: (r: Report) => `${JSON.stringify(r, null, 2)}\n` },
  sarif: { ext: 'sarif', render: (r: Report) => `${JSON.stringify(toSarif(r), null, 2)}\n` },
  junit: { ext: 'junit.xml', render: toJunit },
  html: { ext: 'html', render: toHtml },
} as const;
export type Format = keyof typeof FORMATS;

/** Parses `json,sarif`; throws with the unknown name. */
export function parseFormats(text: string): Format[] {
  const list = text.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  const bad = list.find((f) => !(f in FORMATS));
  if (bad !== undefined) throw new Error(`unknown format ${JSON.stringify(bad)} (use ${Object.keys(FORMATS).join(', ')})`);
  return [...new Set(list)] as Format[];
}

/**
 * Writes each format to `dir` and returns the file paths.
 *
 * @example
 *   writeReports(report, ['json', 'html'], 'reports') // ['reports/rampart-scan.json', 'reports/rampart-scan.html']
 */
export function writeReports(report: Report, formats: readonly Format[], dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return formats.map((f) => {
    const file = join(dir, `rampart-${report.kind}.${FORMATS[f].ext}`);
    writeFileSync(file, FORMATS[f].render(report));
    return file;
  });
}
