/**
 * The SQL access the OAuth server needs, and a small SQLite/PostgreSQL implementation of it.
 *
 * `OAuthSql` is structurally a subset of `SqlExecutor` from `src/stores/contracts.ts` (issue 3):
 * once the shared store is available, `SqlOAuthStore` runs on `store.sql` unchanged, and
 * `openOAuthSql` below is retired. Statements use `?` placeholders (numbered for PostgreSQL) and
 * portable SQL only (`INSERT … ON CONFLICT DO NOTHING`, BIGINT milliseconds, JSON in TEXT).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Migration } from '../stores/migration.js';

export interface OAuthSql {
  readonly dialect: 'sqlite' | 'postgres';
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  script(sql: string): Promise<void>;
}

export interface OpenedSql extends OAuthSql {
  close(): Promise<void>;
}

/** `?` → `$1, $2…` (our statements never contain `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function openSqlite(path: string): OpenedSql {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const statements = new Map<string, Database.Statement<unknown[]>>();
  const prepared = (sql: string): Database.Statement<unknown[]> => {
    let s = statements.get(sql);
    if (s === undefined) statements.set(sql, (s = db.prepare(sql)));
    return s;
  };
  return {
    dialect: 'sqlite',
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return prepared(sql).all(...(params as unknown[])) as T[];
    },
    async execute(sql, params = []) {
      return prepared(sql).run(...(params as unknown[])).changes;
    },
    async script(sql) {
      db.exec(sql);
    },
    async close() {
      db.close();
    },
  };
}

async function openPostgres(url: string, schemaOverride: string | undefined): Promise<OpenedSql> {
  const parsed = new URL(url);
  const schema = schemaOverride ?? parsed.searchParams.get('schema') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  parsed.searchParams.delete('schema');
  const pool = new pg.Pool({ connectionString: parsed.toString(), max: 4, options: `-c search_path=${schema}` });
  pool.on('error', () => undefined);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  return {
    dialect: 'postgres',
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query({ text: numbered(sql), values: params as unknown[] })).rows as T[];
    },
    async execute(sql, params = []) {
      return (await pool.query({ text: numbered(sql), values: params as unknown[] })).rowCount ?? 0;
    },
    async script(sql) {
      await pool.query(sql);
    },
    close: () => pool.end(),
  };
}

/**
 * Opens the config's `store` URL for the OAuth tables and applies `migrations` not yet recorded.
 *
 * @example
 *   const sql = await openOAuthSql('sqlite:.rampart/rampart.db', { baseDir, migrations: OAUTH_MIGRATIONS });
 */
export async function openOAuthSql(url: string, options: { baseDir: string; schema?: string; migrations: readonly Migration[] }): Promise<OpenedSql> {
  const sql = url.startsWith('sqlite:') ? openSqlite(url === 'sqlite::memory:' ? ':memory:' : resolve(options.baseDir, url.slice(7))) : await openPostgres(url, options.schema);
  try {
    await sql.script('CREATE TABLE IF NOT EXISTS rampart_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const done = new Set((await sql.query<{ id: string }>('SELECT id FROM rampart_migrations')).map((r) => r.id));
    for (const m of [...options.migrations].sort((a, b) => a.id.localeCompare(b.id))) {
      if (done.has(m.id)) continue;
      await sql.script(sql.dialect === 'sqlite' ? m.sqlite : m.postgres);
      // Several processes may start together: the first one records the id, the others skip.
      await sql.execute('INSERT INTO rampart_migrations (id, applied_at) VALUES (?, ?) ON CONFLICT DO NOTHING', [m.id, Date.now()]);
    }
  } catch (err) {
    await sql.close();
    throw err;
  }
  return sql;
}
