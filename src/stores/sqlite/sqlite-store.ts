/**
 * The embedded default backend: one SQLite file (better-sqlite3, WAL) per gateway host. Several
 * processes on one host may share the file; WAL lets readers proceed while one writes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreConflictError, StoreUnavailableError, type SqlExecutor } from '../contracts.js';
import { SqlStore } from '../sql/store.js';

type Statement = Database.Statement<unknown[]>;

function mapError(err: unknown): Error {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
    return new StoreConflictError('a record with this key already exists', { cause: err });
  }
  return new StoreUnavailableError(`sqlite: ${(err as Error).message}`, { cause: err });
}

class SqliteExecutor implements SqlExecutor {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Statement>();
  /** Set while an async transaction runs: other callers wait so they do not land inside it. */
  private busy: Promise<void> | undefined;

  constructor(private readonly db: Database.Database, private readonly inTransaction = false) {}

  private prepared(sql: string): Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private async gate(): Promise<void> {
    while (!this.inTransaction && this.busy !== undefined) await this.busy;
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    await this.gate();
    try {
      const s = this.prepared(sql);
      if (!s.reader) {
        s.run(...(params as unknown[]));
        return [];
      }
      return s.all(...(params as unknown[])) as T[];
    } catch (err) {
      throw mapError(err);
    }
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    await this.gate();
    try {
      return this.prepared(sql).run(...(params as unknown[])).changes;
    } catch (err) {
      throw mapError(err);
    }
  }

  async script(sql: string): Promise<void> {
    await this.gate();
    try {
      this.db.exec(sql);
    } catch (err) {
      throw mapError(err);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    // Queue behind the previous transaction synchronously, so two callers never both BEGIN.
    const previous = this.busy;
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.busy = mine;
    try {
      if (previous !== undefined) await previous;
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(new SqliteExecutor(this.db, true));
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err instanceof StoreConflictError || err instanceof StoreUnavailableError ? err : mapError(err);
      }
    } finally {
      release();
      if (this.busy === mine) this.busy = undefined;
    }
  }
}

/**
 * Opens (creating when needed) the SQLite store at `file`. `:memory:` gives a private in-memory store.
 *
 * @example
 *   const store = await openSqliteStore('.rampart/rampart.db');
 */
export async function openSqliteStore(file: string): Promise<SqlStore> {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw new StoreUnavailableError(`cannot open sqlite store ${file}: ${(err as Error).message}`, { cause: err });
  }
  const executor = new SqliteExecutor(db);
  return new SqlStore(
    'sqlite',
    executor,
    async () => {
      if (db.open) db.close();
    },
    async () => {
      await executor.query('SELECT 1');
    },
  );
}
