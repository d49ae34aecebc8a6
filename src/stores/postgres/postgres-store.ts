/**
 * PostgreSQL backend (`pg`, pooled): the store for several gateway processes or hosts. All tables
 * live in one schema (`?schema=NAME` in the URL, default `public`), created when missing.
 */
import pg from 'pg';
import { StoreConflictError, StoreUnavailableError, type SqlExecutor } from '../contracts.js';
import { SqlStore } from '../sql/store.js';
import { inTransaction } from './transaction.js';

const INT8_OID = 20;

/** BIGINT columns hold millisecond timestamps and counters: well inside a double's exact range. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

function mapError(err: unknown): Error {
  if ((err as { code?: unknown }).code === '23505') return new StoreConflictError('a record with this key already exists', { cause: err });
  return new StoreUnavailableError(`postgres: ${(err as Error).message}`, { cause: err });
}

/** `?` placeholders → `$1…$n` (our SQL never has `?` inside string literals). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

class PostgresExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.client.query({ text: numbered(sql), values: params as unknown[] })).rows as T[];
    } catch (err) {
      throw mapError(err);
    }
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.client.query({ text: numbered(sql), values: params as unknown[] })).rowCount ?? 0;
    } catch (err) {
      throw mapError(err);
    }
  }

  async script(sql: string): Promise<void> {
    try {
      await this.client.query(sql);
    } catch (err) {
      throw mapError(err);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (!(this.client instanceof pg.Pool)) return fn(this);
    try {
      return await inTransaction(this.client, (client) => fn(new PostgresExecutor(client)));
    } catch (err) {
      throw err instanceof StoreConflictError || err instanceof StoreUnavailableError ? err : mapError(err);
    }
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Opens a pooled PostgreSQL store. The schema comes from `options.schema`, else `?schema=` in the
 * URL, else `public`.
 *
 * @example
 *   const store = await openPostgresStore('postgres://rampart@db/rampart?schema=gateway');
 */
export async function openPostgresStore(url: string, options: { schema?: string; poolSize?: number } = {}): Promise<SqlStore> {
  const parsed = new URL(url);
  const schema = options.schema ?? parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)} (use a-z, 0-9, _)`);
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: options.poolSize ?? 10,
    // Fail fast when the database is down: the gateway answers 503 instead of holding requests.
    connectionTimeoutMillis: 2000,
    query_timeout: 5000,
    idleTimeoutMillis: 30_000,
    options: `-c search_path=${schema}`,
    types,
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const executor = new PostgresExecutor(pool);
  try {
    await executor.script(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return new SqlStore(
    'postgres',
    executor,
    () => pool.end(),
    async () => {
      await executor.query('SELECT 1');
    },
  );
}
