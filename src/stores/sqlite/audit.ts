/** SQLite backend of the {@link AuditStore} (better-sqlite3, WAL; writes serialised by BEGIN IMMEDIATE). */
import type { Database } from 'better-sqlite3';
import { chainRecords } from '../../observe/audit/chain.js';
import { AUDIT_COLUMNS, buildWhere, entryValues, toPage, type AuditEntry, type AuditQuery, type AuditRecord, type AuditRow, type AuditStore } from '../audit.js';

const PLACEHOLDERS = AUDIT_COLUMNS.split(',').map(() => '?').join(', ');

/**
 * Audit log in a SQLite database whose migrations have been applied.
 *
 * @example
 *   const store = new SqliteAuditStore(db, { key: Buffer.from(process.env.RAMPART_AUDIT_KEY!) });
 */
export class SqliteAuditStore implements AuditStore {
  private readonly insert;
  private readonly readHead;
  private readonly writeHead;
  private readonly appendTx;

  constructor(private readonly db: Database, private readonly options: { key?: Buffer; ownsDb?: boolean } = {}) {
    this.insert = db.prepare(`INSERT INTO rampart_audit_events (${AUDIT_COLUMNS}) VALUES (${PLACEHOLDERS})`);
    this.readHead = db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM rampart_audit_head WHERE id = 1');
    this.writeHead = db.prepare('UPDATE rampart_audit_head SET seq = ?, hash = ? WHERE id = 1');
    this.appendTx = db.transaction((records: readonly AuditRecord[]): AuditEntry[] => {
      const entries = chainRecords(this.readHead.get()!, records, this.options.key);
      for (const e of entries) this.insert.run(entryValues(e));
      const last = entries[entries.length - 1];
      if (last !== undefined) this.writeHead.run(last.seq, last.hash);
      return entries;
    });
  }

  async append(records: readonly AuditRecord[]): Promise<readonly AuditEntry[]> {
    if (records.length === 0) return [];
    // IMMEDIATE takes the write lock before reading the head: another process cannot chain in between.
    return this.appendTx.immediate(records);
  }

  async query(q: AuditQuery): Promise<ReturnType<typeof toPage>> {
    const { sql, params } = buildWhere(q);
    const rows = this.db
      .prepare<unknown[], AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM rampart_audit_events ${sql} ORDER BY seq ${q.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`)
      .all(...params, q.limit + 1);
    return toPage(rows, q.limit);
  }

  async head(): Promise<{ seq: number; hash: string }> {
    return this.readHead.get()!;
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.options.ownsDb) this.db.close();
  }
}
