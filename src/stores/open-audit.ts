/**
 * Opens the audit store named by the config's `store` URL (`sqlite:PATH` or `postgres://…`).
 */
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { AuditStore } from './audit.js';
import { openStore } from './open.js';
import { SqliteAuditStore } from './sqlite/audit.js';
import { PostgresAuditStore } from './postgres/audit.js';

export interface OpenAuditOptions {
  /** Directory that a relative `sqlite:` path resolves against. */
  readonly baseDir: string;
  /** PostgreSQL schema (default: `?schema=` in the URL, else `public`, like the shared store). */
  readonly schema?: string;
  /** Chain key (HMAC-SHA-256); without it the chain uses plain SHA-256. */
  readonly key?: Buffer;
}

/**
 * @example
 *   const store = await openAuditStore('sqlite:.rampart/rampart.db', { baseDir: process.cwd() });
 */
export async function openAuditStore(url: string, options: OpenAuditOptions): Promise<AuditStore> {
  // The shared store applies every module's pending migrations (the audit tables included).
  const shared = await openStore(url, { baseDir: options.baseDir, ...(options.schema === undefined ? {} : { schema: options.schema }) });
  await shared.close();
  if (url.startsWith('sqlite:')) {
    const rel = url.slice('sqlite:'.length);
    const db = new Database(rel === ':memory:' ? rel : resolve(options.baseDir, rel));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    return new SqliteAuditStore(db, { key: options.key, ownsDb: true });
  }
  // Same schema resolution as the shared store: option, else `?schema=`, else `public`.
  const parsed = new URL(url);
  const schema = options.schema ?? parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  const pool = new pg.Pool({ connectionString: parsed.toString(), options: `-c search_path=${schema}`, max: 4, connectionTimeoutMillis: 2000 });
  // An idle client's connection error must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return new PostgresAuditStore(pool, { key: options.key, ownsPool: true });
}
