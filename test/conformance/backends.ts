/**
 * Every store backend the conformance suites run against: SQLite (a temp file) and PostgreSQL
 * (the real server, one schema per run, dropped at the end). No backend is ever skipped.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Store } from '../../src/stores/contracts.js';
import { openStore } from '../../src/stores/open.js';
import { tempDir } from '../helpers/gateway.js';

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** A fresh, migrated store. */
  open(): Promise<Store>;
  /** Closes every store opened and removes the schema. */
  cleanup(): Promise<void>;
}

/** A unique PostgreSQL schema name for one test run. */
export function testSchema(label: string): string {
  return `t_${label}_${randomBytes(5).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.RAMPART_TEST_PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export function backends(label: string): Backend[] {
  const sqliteStores: Store[] = [];
  const pgStores: Store[] = [];
  const schemas: string[] = [];
  return [
    {
      name: 'sqlite',
      async open() {
        const store = await openStore(`sqlite:${join(tempDir(), 'store.db')}`);
        sqliteStores.push(store);
        return store;
      },
      async cleanup() {
        await Promise.all(sqliteStores.splice(0).map((s) => s.close()));
      },
    },
    {
      name: 'postgres',
      async open() {
        const schema = testSchema(label);
        schemas.push(schema);
        const store = await openStore(process.env.RAMPART_TEST_PG_URL!, { schema });
        pgStores.push(store);
        return store;
      },
      async cleanup() {
        await Promise.all(pgStores.splice(0).map((s) => s.close()));
        for (const schema of schemas.splice(0)) await dropSchema(schema);
      },
    },
  ];
}
