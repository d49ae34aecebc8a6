/**
 * The OSV record format (https://ossf.github.io/osv-schema/), as far as auditing reads it.
 * Unknown fields are kept (the format grows); the fields we evaluate are checked strictly so a
 * malformed record is reported instead of silently matching nothing. Checked by hand rather than
 * with zod: an ecosystem export has hundreds of thousands of records and this is 10× faster.
 */
import { AuditInputError } from '../errors.js';

export const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface OsvSeverity {
  type: string;
  score: string;
}
export interface OsvRange {
  type: string;
  repo?: string;
  /** Each event has exactly one of the {@link EVENT_KINDS} keys. */
  events: Record<string, string>[];
}
export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
  severity?: OsvSeverity[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}
export interface OsvRecord {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  related?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: { type: string; url: string }[];
  database_specific?: Record<string, unknown>;
}

type Path = (string | number)[];

class Checker {
  constructor(private readonly file: string) {}

  fail(path: Path, problem: string): never {
    const where = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
    throw new AuditInputError(this.file, `${where === '' ? 'record' : where}: ${problem}`);
  }
  object(v: unknown, path: Path): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'expected an object');
    return v as Record<string, unknown>;
  }
  string(v: unknown, path: Path, optional = false): void {
    if (v === undefined && optional) return;
    if (typeof v !== 'string') this.fail(path, 'expected a string');
  }
  array(v: unknown, path: Path, each: (item: unknown, path: Path) => void, nonEmpty = false): void {
    if (v === undefined) return;
    if (!Array.isArray(v)) this.fail(path, 'expected an array');
    if (nonEmpty && v.length === 0) this.fail(path, 'expected at least one item');
    v.forEach((item, i) => each(item, [...path, i]));
  }
  severity = (v: unknown, path: Path): void => {
    const s = this.object(v, path);
    this.string(s.type, [...path, 'type']);
    this.string(s.score, [...path, 'score']);
  };
  str = (v: unknown, path: Path): void => this.string(v, path);
}

/**
 * Checks one parsed OSV record; the first problem is reported with the file and the field path.
 *
 * @example
 * const record = checkOsvRecord('GHSA-xxxx.json', JSON.parse(text));
 */
export function checkOsvRecord(file: string, data: unknown): OsvRecord {
  const c = new Checker(file);
  const r = c.object(data, []);
  c.string(r.id, ['id']);
  if (r.id === '') c.fail(['id'], 'must not be empty');
  c.string(r.modified, ['modified']);
  for (const key of ['schema_version', 'published', 'withdrawn', 'summary', 'details']) c.string(r[key], [key], true);
  c.array(r.aliases, ['aliases'], c.str);
  c.array(r.related, ['related'], c.str);
  c.array(r.severity, ['severity'], c.severity);
  c.array(r.references, ['references'], (v, path) => {
    const ref = c.object(v, path);
    c.string(ref.type, [...path, 'type']);
    c.string(ref.url, [...path, 'url']);
  });
  if (r.database_specific !== undefined) c.object(r.database_specific, ['database_specific']);
  c.array(r.affected, ['affected'], (v, path) => {
    const a = c.object(v, path);
    if (a.package !== undefined) {
      const p = c.object(a.package, [...path, 'package']);
      c.string(p.ecosystem, [...path, 'package', 'ecosystem']);
      c.string(p.name, [...path, 'package', 'name']);
      c.string(p.purl, [...path, 'package', 'purl'], true);
    }
    c.array(a.versions, [...path, 'versions'], c.str);
    c.array(a.severity, [...path, 'severity'], c.severity);
    for (const key of ['ecosystem_specific', 'database_specific']) if (a[key] !== undefined) c.object(a[key], [...path, key]);
    c.array(a.ranges, [...path, 'ranges'], (rv, rpath) => {
      const range = c.object(rv, rpath);
      c.string(range.type, [...rpath, 'type']);
      c.string(range.repo, [...rpath, 'repo'], true);
      if (range.events === undefined) c.fail([...rpath, 'events'], 'required');
      c.array(
        range.events,
        [...rpath, 'events'],
        (ev, epath) => {
          const keys = Object.keys(c.object(ev, epath));
          const e = ev as Record<string, unknown>;
          if (keys.length !== 1 || !EVENT_KINDS.includes(keys[0] as EventKind)) c.fail(epath, `an event has exactly one of ${EVENT_KINDS.join(', ')}`);
          c.string(e[keys[0]!], [...epath, keys[0]!]);
        },
        true,
      );
    });
  });
  return r as unknown as OsvRecord;
}

/**
 * The kind and version of one event.
 *
 * @example
 * eventOf({ fixed: '1.2.3' }); // ['fixed', '1.2.3']
 */
export function eventOf(e: Record<string, string>): [EventKind, string] {
  const [kind, version] = Object.entries(e)[0]!;
  return [kind as EventKind, version];
}
