/** PostgreSQL backend of the {@link AuditStore}; writes serialised by a row lock on the head record. */
import type { Pool } from 'pg';
import { chainRecords } from '../../observe/audit/chain.js';
import { AUDIT_COLUMNS, buildWhere, entryValues, toPage, type AuditEntry, type AuditPage, type AuditQuery, type AuditRecord, type AuditRow, type AuditStore } from '../audit.js';
import { inTransaction } from './transaction.js';

const COLUMN_COUNT = AUDIT_COLUMNS.split(',').length;

/** `?` placeholders → `$1…$n`. */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/**
 * Audit log in PostgreSQL (the pool's `search_path` selects the schema).
 *
 * @example
 *   const store = new PostgresAuditStore(new Pool({ connectionString, options: '-c search_path=rampart' }));
 */
export class PostgresAuditStore implements AuditStore {
  constructor(private readonly pool: Pool, private readonly options: { key?: Buffer; ownsPool?: boolean } = {}) {}

  async append(records: readonly AuditRecord[]): Promise<readonly AuditEntry[]> {
    if (records.length === 0) return [];
    return inTransaction(this.pool, async (client) => {
      const head = await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM rampart_audit_head WHERE id = 1 FOR UPDATE');
      const row = head.rows[0]!;
      const entries = chainRecords({ seq: Number(row.seq), hash: row.hash }, records, this.options.key);
      const values = entries.flatMap(entryValues);
      const tuples = entries.map((_, r) => `(${Array.from({ length: COLUMN_COUNT }, (_c, c) => `$${r * COLUMN_COUNT + c + 1}`).join(', ')})`);
      await client.query(`INSERT INTO rampart_audit_events (${AUDIT_COLUMNS}) VALUES ${tuples.join(', ')}`, values);
      const last = entries[entries.length - 1]!;
      await client.query('UPDATE rampart_audit_head SET seq = $1, hash = $2 WHERE id = 1', [last.seq, last.hash]);
      return entries;
    });
  }

  async query(q: AuditQuery): Promise<AuditPage> {
    const { sql, params } = buildWhere(q);
    const text = numbered(`SELECT ${AUDIT_COLUMNS} FROM rampart_audit_events ${sql} ORDER BY seq ${q.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`);
    const result = await this.pool.query<AuditRow>(text, [...params, q.limit + 1]);
    return toPage(result.rows, q.limit);
  }

  async head(): Promise<{ seq: number; hash: string }> {
    const r = await this.pool.query<{ seq: string; hash: string }>('SELECT seq, hash FROM rampart_audit_head WHERE id = 1');
    return { seq: Number(r.rows[0]!.seq), hash: r.rows[0]!.hash };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.options.ownsPool) await this.pool.end();
  }
}
