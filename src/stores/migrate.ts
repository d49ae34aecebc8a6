/**
 * Versioned migrations: merges every module's list, applies the pending ones in id order inside
 * one transaction, and records them in `rampart_migrations`. Several processes starting at once
 * are serialised (an advisory lock on PostgreSQL, an immediate transaction on SQLite).
 */
import type { SqlExecutor } from './contracts.js';
import type { Migration } from './migration.js';

/**
 * Merges migration lists into one ordered plan; throws on a duplicate id.
 *
 * @example
 *   planMigrations([KEYS_MIGRATIONS, AUDIT_MIGRATIONS]).map((m) => m.id)
 */
export function planMigrations(lists: readonly (readonly Migration[])[]): Migration[] {
  const seen = new Set<string>();
  const all: Migration[] = [];
  for (const list of lists) {
    for (const m of list) {
      if (seen.has(m.id)) throw new Error(`duplicate migration id ${m.id}`);
      seen.add(m.id);
      all.push(m);
    }
  }
  return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Applies the pending migrations of `lists`; returns the ids applied now (empty when up to date).
 *
 * @example
 *   const applied = await runMigrations(store.sql, STORE_MIGRATIONS);
 */
export async function runMigrations(sql: SqlExecutor, lists: readonly (readonly Migration[])[], now: () => number = Date.now): Promise<string[]> {
  const plan = planMigrations(lists);
  return sql.transaction(async (tx) => {
    // A fixed lock key per schema: concurrent starters wait here instead of racing on CREATE TABLE.
    if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(7265, hashtext(current_schema()))');
    await tx.script('CREATE TABLE IF NOT EXISTS rampart_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const done = new Set((await tx.query<{ id: string }>('SELECT id FROM rampart_migrations')).map((r) => r.id));
    const applied: string[] = [];
    for (const m of plan) {
      if (done.has(m.id)) continue;
      await tx.script(tx.dialect === 'sqlite' ? m.sqlite : m.postgres);
      await tx.execute('INSERT INTO rampart_migrations (id, applied_at) VALUES (?, ?)', [m.id, now()]);
      applied.push(m.id);
    }
    return applied;
  });
}
