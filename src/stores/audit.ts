/**
 * Audit store contract: the durable, hash-chained security event log (see src/observe/audit/).
 * Backends: src/stores/sqlite/audit.ts and src/stores/postgres/audit.ts, both checked by
 * test/conformance/audit-store.test.ts.
 */
import type { SecurityEvent } from '../core/events.js';
import type { Migration } from './migration.js';

/** The stored form of an event: what the hash covers. `data` is canonical JSON text. */
export interface AuditRecord {
  readonly time: number;
  readonly type: string;
  readonly severity: SecurityEvent['severity'];
  readonly source: string;
  readonly code?: string | undefined;
  readonly reason?: string | undefined;
  readonly requestId?: string | undefined;
  readonly clientIp?: string | undefined;
  readonly consumer?: string | undefined;
  readonly route?: string | undefined;
  readonly method?: string | undefined;
  readonly path?: string | undefined;
  readonly data?: string | undefined;
}

/** One chained entry as stored. */
export interface AuditEntry extends AuditRecord {
  /** 1, 2, 3… without gaps. */
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;

/** Filters and page for {@link AuditStore.query}. Every filter is optional; they combine with AND. */
export interface AuditQuery {
  /** Exact types, or prefixes ending in `.*` (e.g. `auth.*`). */
  readonly types?: readonly string[];
  /** This severity and above. */
  readonly minSeverity?: SecurityEvent['severity'];
  /** Time range, milliseconds since the epoch (since inclusive, until exclusive). */
  readonly since?: number;
  readonly until?: number;
  readonly clientIp?: string;
  readonly consumer?: string;
  readonly route?: string;
  readonly requestId?: string;
  /** `desc` (newest first, default) or `asc`. */
  readonly order?: 'asc' | 'desc';
  /** Exclusive seq to continue from (the previous page's `next`). */
  readonly cursor?: number;
  /** Page size (1..1000). */
  readonly limit: number;
}

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  /** Cursor of the next page; undefined on the last page. */
  readonly next: number | undefined;
}

/**
 * Durable, append-only, hash-chained event log. `append` chains and writes a batch in ONE
 * transaction (serialised across processes), so a crash leaves either the whole batch or none of
 * it, and the chain always verifies.
 *
 * @example
 *   const [entry] = await store.append([{ time: Date.now(), type: 'auth.failure', severity: 'low', source: 'api_key' }]);
 */
export interface AuditStore {
  append(records: readonly AuditRecord[]): Promise<readonly AuditEntry[]>;
  query(q: AuditQuery): Promise<AuditPage>;
  /** The last written entry as recorded by the writer (seq 0 and the genesis hash when empty). */
  head(): Promise<{ seq: number; hash: string }>;
  /** Cheap liveness check (metrics, readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Tables of the audit log. Idempotent DDL, so it can run under the shared migration runner too. */
export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    id: '0500_observe_audit_events',
    sqlite: `
CREATE TABLE IF NOT EXISTS rampart_audit_events (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  severity TEXT NOT NULL,
  source TEXT NOT NULL,
  code TEXT, reason TEXT, request_id TEXT, client_ip TEXT, consumer TEXT, route TEXT, method TEXT, path TEXT,
  data TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rampart_audit_events_time ON rampart_audit_events (time);
CREATE INDEX IF NOT EXISTS rampart_audit_events_type ON rampart_audit_events (type, seq);
CREATE INDEX IF NOT EXISTS rampart_audit_events_ip ON rampart_audit_events (client_ip, seq);
CREATE INDEX IF NOT EXISTS rampart_audit_events_consumer ON rampart_audit_events (consumer, seq);
CREATE TABLE IF NOT EXISTS rampart_audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT OR IGNORE INTO rampart_audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');
`,
    postgres: `
CREATE TABLE IF NOT EXISTS rampart_audit_events (
  seq BIGINT PRIMARY KEY,
  time BIGINT NOT NULL,
  type TEXT NOT NULL,
  severity TEXT NOT NULL,
  source TEXT NOT NULL,
  code TEXT, reason TEXT, request_id TEXT, client_ip TEXT, consumer TEXT, route TEXT, method TEXT, path TEXT,
  data TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rampart_audit_events_time ON rampart_audit_events (time);
CREATE INDEX IF NOT EXISTS rampart_audit_events_type ON rampart_audit_events (type, seq);
CREATE INDEX IF NOT EXISTS rampart_audit_events_ip ON rampart_audit_events (client_ip, seq);
CREATE INDEX IF NOT EXISTS rampart_audit_events_consumer ON rampart_audit_events (consumer, seq);
CREATE TABLE IF NOT EXISTS rampart_audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO rampart_audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}') ON CONFLICT (id) DO NOTHING;
`,
  },
];

/** Column list shared by both SQL backends (same names, same order as {@link AuditEntry}). */
export const AUDIT_COLUMNS = 'seq, time, type, severity, source, code, reason, request_id, client_ip, consumer, route, method, path, data, prev_hash, hash';

/** A row as both SQL drivers return it. */
export interface AuditRow {
  seq: number | string;
  time: number | string;
  type: string;
  severity: string;
  source: string;
  code: string | null;
  reason: string | null;
  request_id: string | null;
  client_ip: string | null;
  consumer: string | null;
  route: string | null;
  method: string | null;
  path: string | null;
  data: string | null;
  prev_hash: string;
  hash: string;
}

/** Row → entry (BIGINT columns come back as strings from pg). */
export function rowToEntry(r: AuditRow): AuditEntry {
  const opt = (v: string | null): string | undefined => v ?? undefined;
  return {
    seq: Number(r.seq),
    time: Number(r.time),
    type: r.type,
    severity: r.severity as AuditEntry['severity'],
    source: r.source,
    code: opt(r.code),
    reason: opt(r.reason),
    requestId: opt(r.request_id),
    clientIp: opt(r.client_ip),
    consumer: opt(r.consumer),
    route: opt(r.route),
    method: opt(r.method),
    path: opt(r.path),
    data: opt(r.data),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Entry → positional values in {@link AUDIT_COLUMNS} order. */
export function entryValues(e: AuditEntry): (string | number | null)[] {
  return [e.seq, e.time, e.type, e.severity, e.source, e.code ?? null, e.reason ?? null, e.requestId ?? null, e.clientIp ?? null, e.consumer ?? null, e.route ?? null, e.method ?? null, e.path ?? null, e.data ?? null, e.prevHash, e.hash];
}

/**
 * WHERE clause and parameters for a query, with `?` placeholders (the Postgres backend renumbers
 * them). Shared so both backends filter identically.
 */
export function buildWhere(q: AuditQuery): { sql: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (q.types !== undefined && q.types.length > 0) {
    const any: string[] = [];
    for (const t of q.types) {
      if (t.endsWith('.*')) {
        // Prefix match without LIKE wildcards from user input: compare the leading substring.
        any.push('substr(type, 1, ?) = ?');
        params.push(t.length - 1, t.slice(0, -1));
      } else {
        any.push('type = ?');
        params.push(t);
      }
    }
    clauses.push(`(${any.join(' OR ')})`);
  }
  if (q.minSeverity !== undefined) {
    const allowed = SEVERITIES.slice(SEVERITIES.indexOf(q.minSeverity));
    clauses.push(`severity IN (${allowed.map(() => '?').join(', ')})`);
    params.push(...allowed);
  }
  const eq = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    clauses.push(`${column} = ?`);
    params.push(value);
  };
  eq('client_ip', q.clientIp);
  eq('consumer', q.consumer);
  eq('route', q.route);
  eq('request_id', q.requestId);
  const cmp = (sql: string, value: number | undefined): void => {
    if (value === undefined) return;
    clauses.push(sql);
    params.push(value);
  };
  cmp('time >= ?', q.since);
  cmp('time < ?', q.until);
  cmp(q.order === 'asc' ? 'seq > ?' : 'seq < ?', q.cursor);
  return { sql: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

/** Turns `limit + 1` fetched rows into a page (the extra row only tells that more exist). */
export function toPage(rows: readonly AuditRow[], limit: number): AuditPage {
  const entries = rows.slice(0, limit).map(rowToEntry);
  return { entries, next: rows.length > limit ? entries[entries.length - 1]!.seq : undefined };
}
