import { resolve } from 'node:path';
import type { Store } from './contracts.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { openPostgresStore } from './postgres/postgres-store.js';

export interface OpenStoreOptions {
  /** Directory that a relative `sqlite:PATH` resolves against (the config file's). */
  baseDir?: string;
  /** PostgreSQL schema (overrides `?schema=`); tests use one per run. */
  schema?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
}

/**
 * Opens the store named by the config's `store` URL and applies pending migrations.
 *
 * @example
 *   const store = await openStore('sqlite:.rampart/rampart.db', { baseDir: '/etc/rampart' });
 *   const pgStore = await openStore('postgres://postgres@127.0.0.1/test?schema=run42');
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  let store: Store;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    store = await openSqliteStore(path === ':memory:' ? path : resolve(options.baseDir ?? process.cwd(), path));
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    store = await openPostgresStore(url, options.schema === undefined ? {} : { schema: options.schema });
  } else {
    throw new Error('store must be sqlite:PATH or postgres://…');
  }
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}
