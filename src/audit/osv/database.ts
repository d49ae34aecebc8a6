/**
 * OSV advisories indexed by (ecosystem, package name), loaded from a directory or ZIP of OSV JSON
 * records (osv.dev publishes one `all.zip` per ecosystem), or from the API (see online.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AuditInputError, parseJsonFile } from '../errors.js';
import { normalizePypiName } from '../lockfiles/python.js';
import { checkOsvRecord, type OsvAffected, type OsvRecord } from './schema.js';
import { readZip } from './zip.js';

/** One OSV record is a few KiB; anything past this is not a record (bytes; 16 MiB). */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** A ZIP is read into memory whole (bytes; 2 GiB, over the size of osv.dev's largest ecosystem archive). */
const MAX_ZIP_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export interface IndexedAffected {
  record: OsvRecord;
  affected: OsvAffected;
}

function packageKey(ecosystem: string, name: string): string {
  return `${ecosystem}\u0000${ecosystem === 'PyPI' ? normalizePypiName(name) : name}`;
}

/**
 * Advisories by package. Withdrawn records are dropped when added; for a repeated id the most
 * recently modified record wins.
 *
 * @example
 * const db = new AdvisoryDatabase([record], Date.now());
 * db.lookup('npm', 'lodash'); // [{ record, affected }]
 */
export class AdvisoryDatabase {
  readonly records = new Map<string, OsvRecord>();
  /** Ids of withdrawn records that were skipped. */
  readonly withdrawn: string[] = [];
  private index: Map<string, IndexedAffected[]> | undefined;

  constructor(records: Iterable<OsvRecord> = [], private readonly now = Date.now()) {
    for (const r of records) this.add(r);
  }

  add(record: OsvRecord): void {
    if (record.withdrawn !== undefined && !(Date.parse(record.withdrawn) > this.now)) {
      this.withdrawn.push(record.id);
      return;
    }
    const existing = this.records.get(record.id);
    if (existing !== undefined && Date.parse(existing.modified) >= Date.parse(record.modified)) return;
    this.records.set(record.id, record);
    this.index = undefined;
  }

  /** Every `affected` entry naming this package, across all records. */
  lookup(ecosystem: string, name: string): readonly IndexedAffected[] {
    if (this.index === undefined) {
      this.index = new Map();
      for (const record of this.records.values()) {
        for (const affected of record.affected ?? []) {
          if (affected.package === undefined) continue;
          // "Debian:12" style ecosystems carry a release suffix; ours never do.
          const key = packageKey(affected.package.ecosystem.split(':')[0]!, affected.package.name);
          const list = this.index.get(key);
          if (list === undefined) this.index.set(key, [{ record, affected }]);
          else list.push({ record, affected });
        }
      }
    }
    return this.index.get(packageKey(ecosystem, name)) ?? [];
  }
}

/**
 * Loads every `*.json` OSV record under a directory (recursively) or inside a ZIP archive.
 *
 * @example
 * const db = loadOsv('test/fixtures/audit/osv');
 */
export function loadOsv(path: string, now = Date.now()): AdvisoryDatabase {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new AuditInputError(path, 'OSV data not found (give a directory or .zip of OSV JSON records)');
  }
  const db = new AdvisoryDatabase([], now);
  const addText = (file: string, text: string): void => db.add(checkOsvRecord(file, parseJsonFile(file, text)));
  if (stat.isDirectory()) {
    for (const file of walk(path)) {
      if (statSync(file).size > MAX_RECORD_BYTES) throw new AuditInputError(file, `larger than ${MAX_RECORD_BYTES} bytes`);
      addText(file, readFileSync(file, 'utf8'));
    }
  } else {
    if (stat.size > MAX_ZIP_BYTES) throw new AuditInputError(path, `larger than ${MAX_ZIP_BYTES} bytes`);
    for (const entry of readZip(path, readFileSync(path), MAX_RECORD_BYTES)) {
      if (entry.name.endsWith('.json')) addText(`${path}!${entry.name}`, entry.read().toString('utf8'));
    }
  }
  return db;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile() && entry.name.endsWith('.json')) yield full;
  }
}
