/**
 * Opens the audit store named by the config's `store` URL (`sqlite:PATH` or `postgres://…`).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Migration } from './migration.js';
import { AUDIT_MIGRATIONS, type AuditStore } from './audit.js';
import { SqliteAuditStore } from './sqlite/audit.js';
import { PostgresAuditStore } from './postgres/audit.js';

export interface OpenAuditOptions {
  /** Directory that a relative `sqlite:` path resolves against. */
  readonly baseDir: string;
  /** PostgreSQL schema (default `rampart`). */
  readonly schema?: string;
  /** Chain key (HMAC-SHA-256); without it the chain uses plain SHA-256. */
  readonly key?: Buffer;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * @example
 *   const store = await openAuditStore('sqlite:.rampart/rampart.db', { baseDir: process.cwd() });
 */
export async function openAuditStore(url: string, options: OpenAuditOptions): Promise<AuditStore> {
  if (url.startsWith('sqlite:')) {
    const rel = url.slice('sqlite:'.length);
    const file = rel === ':memory:' ? rel : resolve(options.baseDir, rel);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    applySqliteMigrations(db, AUDIT_MIGRATIONS);
    return new SqliteAuditStore(db, { key: options.key, ownsDb: true });
  }
  const schema = options.schema ?? 'rampart';
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 4 });
  // An idle client's connection error must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await applyPostgresMigrations(pool, AUDIT_MIGRATIONS);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return new PostgresAuditStore(pool, { key: options.key, ownsPool: true });
}

// TEMPORARY (replace with the shared runner from src/stores/ once helper `keys` lands it on main):
// the two functions below apply pending migrations and record them in rampart_migrations.

function applySqliteMigrations(db: Database.Database, migrations: readonly Migration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS rampart_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const done = db.prepare<[string], { id: string }>('SELECT id FROM rampart_migrations WHERE id = ?');
  const record = db.prepare("INSERT INTO rampart_migrations (id, applied_at) VALUES (?, datetime('now'))");
  for (const m of migrations) {
    db.transaction(() => {
      if (done.get(m.id) !== undefined) return;
      db.exec(m.sqlite);
      record.run(m.id);
    }).immediate();
  }
}

async function applyPostgresMigrations(pool: pg.Pool, migrations: readonly Migration[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('CREATE TABLE IF NOT EXISTS rampart_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    for (const m of migrations) {
      await client.query('BEGIN');
      try {
        // One migrator at a time across processes.
        await client.query('LOCK TABLE rampart_migrations IN EXCLUSIVE MODE');
        const done = await client.query('SELECT 1 FROM rampart_migrations WHERE id = $1', [m.id]);
        if (done.rowCount === 0) {
          await client.query(m.postgres);
          await client.query('INSERT INTO rampart_migrations (id) VALUES ($1)', [m.id]);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  } finally {
    client.release();
  }
}
