/**
 * A versioned schema change. Each module that owns tables exports an ordered list of these; the
 * store applies every pending one at start (and `rampart migrate`), recording ids in
 * `rampart_migrations`. Ids are global and sortable: `NNNN_module_what` (e.g. `0001_core_consumers`).
 */
export interface Migration {
  readonly id: string;
  /** SQL for SQLite (may hold several statements). */
  readonly sqlite: string;
  /** SQL for PostgreSQL (runs in the store's own schema; may hold several statements). */
  readonly postgres: string;
}
