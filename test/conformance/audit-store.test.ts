/**
 * One conformance suite for every AuditStore backend (SQLite file, PostgreSQL in its own schema).
 * Tampering is done with direct SQL, as an attacker with database access would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openAuditStore } from '../../src/stores/open-audit.js';
import type { AuditRecord, AuditStore } from '../../src/stores/audit.js';
import { verifyAuditStore } from '../../src/observe/audit/verify.js';
import { tempDir } from '../helpers/gateway.js';

interface Backend {
  name: string;
  open(key?: Buffer): Promise<AuditStore>;
  /** Runs raw SQL against the backend (`?` placeholders). */
  exec(sql: string, params?: (string | number)[]): Promise<void>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = tempDir('rampart-audit-');
  const file = join(dir, 'audit.db');
  let n = 0;
  return {
    name: 'sqlite',
    open: (key) => openAuditStore(`sqlite:${file}.${n++}`, { baseDir: dir, key }),
    async exec(sql, params = []) {
      const db = new Database(`${file}.${n - 1}`);
      db.prepare(sql).run(...params);
      db.close();
    },
    async cleanup() {},
  };
}

function postgresBackend(): Backend {
  const url = process.env.RAMPART_TEST_PG_URL!;
  const base = `audit_${process.pid}_${Date.now()}`;
  const schemas: string[] = [];
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  return {
    name: 'postgres',
    open(key) {
      schemas.push(`${base}_${schemas.length}`);
      return openAuditStore(url, { baseDir: '.', schema: schemas[schemas.length - 1]!, key });
    },
    async exec(sql, params = []) {
      let i = 0;
      await admin.query(`SET search_path = ${schemas[schemas.length - 1]}`);
      await admin.query(sql.replace(/\?/g, () => `$${++i}`), params);
    },
    async cleanup() {
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await admin.end();
    },
  };
}

const rec = (i: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  time: 1_700_000_000_000 + i * 1000,
  type: i % 2 === 0 ? 'auth.failure' : 'request.denied',
  severity: i % 3 === 0 ? 'high' : 'low',
  source: 'test',
  clientIp: i % 2 === 0 ? '10.0.0.1' : '10.0.0.2',
  consumer: i % 4 === 0 ? 'alice' : undefined,
  data: JSON.stringify({ i }),
  ...over,
});

describe.each([['sqlite', sqliteBackend], ['postgres', postgresBackend]] as const)('AuditStore conformance: %s', (_name, make) => {
  const backend = make();
  let store: AuditStore;

  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('starts empty with the genesis head and verifies', async () => {
    expect(await store.head()).toEqual({ seq: 0, hash: '0'.repeat(64) });
    expect((await verifyAuditStore(store, undefined)).ok).toBe(true);
  });

  it('appends batches as a gap-free chain, including concurrent appends', async () => {
    const first = await store.append([rec(1), rec(2), rec(3)]);
    expect(first.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(first[1]!.prevHash).toBe(first[0]!.hash);
    await Promise.all(Array.from({ length: 8 }, (_, k) => store.append([rec(4 + k * 2), rec(5 + k * 2)])));
    const head = await store.head();
    expect(head.seq).toBe(19);
    const result = await verifyAuditStore(store, undefined);
    expect(result).toMatchObject({ ok: true, checked: 19, lastSeq: 19, lastHash: head.hash });
  });

  it('filters by type (exact and prefix), severity, address, consumer and time; pages both ways', async () => {
    const byType = await store.query({ types: ['auth.*'], limit: 100 });
    expect(byType.entries.every((e) => e.type === 'auth.failure')).toBe(true);
    expect(byType.entries.length).toBeGreaterThan(0);
    // LIKE wildcards in a filter are literal characters, never patterns.
    expect((await store.query({ types: ['%.*'], limit: 100 })).entries).toHaveLength(0);
    expect((await store.query({ types: ['request.denied'], limit: 100 })).entries.every((e) => e.type === 'request.denied')).toBe(true);
    expect((await store.query({ minSeverity: 'high', limit: 100 })).entries.every((e) => e.severity === 'high')).toBe(true);
    expect((await store.query({ clientIp: '10.0.0.2', limit: 100 })).entries.every((e) => e.clientIp === '10.0.0.2')).toBe(true);
    expect((await store.query({ consumer: 'alice', limit: 100 })).entries.every((e) => e.consumer === 'alice')).toBe(true);
    const t0 = 1_700_000_000_000;
    const ranged = await store.query({ since: t0 + 2000, until: t0 + 4000, limit: 100 });
    expect(ranged.entries.map((e) => e.time).sort()).toEqual([t0 + 2000, t0 + 3000]);

    const seen: number[] = [];
    let cursor: number | undefined;
    do {
      const page = await store.query({ limit: 5, cursor });
      seen.push(...page.entries.map((e) => e.seq));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(seen).toEqual(Array.from({ length: 19 }, (_, i) => 19 - i));
    const asc = await store.query({ order: 'asc', limit: 3, cursor: 10 });
    expect(asc.entries.map((e) => e.seq)).toEqual([11, 12, 13]);
    expect(asc.next).toBe(13);
  });

  it('round-trips every field', async () => {
    const [e] = await store.append([
      { time: 1, type: 'admin.change', severity: 'medium', source: 'admin', code: 'X', reason: 'why', requestId: 'r1', clientIp: '::1', consumer: 'c', route: 'pets', method: 'POST', path: '/p', data: '{"a":1}' },
    ]);
    const [back] = (await store.query({ requestId: 'r1', limit: 1 })).entries;
    expect(back).toEqual(e);
  });

  it('detects an edited row and names it', async () => {
    await backend.exec('UPDATE rampart_audit_events SET reason = ? WHERE seq = ?', ['edited', 7]);
    const result = await verifyAuditStore(store, undefined);
    expect(result).toMatchObject({ ok: false, checked: 6, break: { seq: 7, problem: 'hash-mismatch' } });
  });
});

describe.each([['sqlite', sqliteBackend], ['postgres', postgresBackend]] as const)('AuditStore tampering: %s', (_name, make) => {
  const backend = make();
  afterAll(() => backend.cleanup());

  const fresh = async (key?: Buffer): Promise<AuditStore> => {
    const store = await backend.open(key);
    await store.append(Array.from({ length: 6 }, (_, i) => rec(i + 1)));
    return store;
  };

  it('a removed row breaks the chain at the gap', async () => {
    const store = await fresh();
    await backend.exec('DELETE FROM rampart_audit_events WHERE seq = ?', [3]);
    expect(await verifyAuditStore(store, undefined)).toMatchObject({ ok: false, break: { seq: 3, problem: 'gap' } });
    await store.close();
  });

  it('removing the newest rows is caught by the head record', async () => {
    const store = await fresh();
    await backend.exec('DELETE FROM rampart_audit_events WHERE seq >= ?', [5]);
    expect(await verifyAuditStore(store, undefined)).toMatchObject({ ok: false, break: { seq: 5, problem: 'missing-tail' } });
    await store.close();
  });

  it('reordered rows (swapped sequence numbers) break the chain', async () => {
    const store = await fresh();
    await backend.exec('UPDATE rampart_audit_events SET seq = -1 WHERE seq = 2');
    await backend.exec('UPDATE rampart_audit_events SET seq = 2 WHERE seq = 3');
    await backend.exec('UPDATE rampart_audit_events SET seq = 3 WHERE seq = -1');
    expect(await verifyAuditStore(store, undefined)).toMatchObject({ ok: false, break: { seq: 2 } });
    await store.close();
  });

  it('a row appended outside the writer is reported', async () => {
    const store = await fresh();
    await backend.exec("INSERT INTO rampart_audit_events (seq, time, type, severity, source, prev_hash, hash) VALUES (7, 0, 'x', 'info', 'x', 'a', 'b')");
    expect(await verifyAuditStore(store, undefined)).toMatchObject({ ok: false, break: { seq: 7, problem: 'unexpected-tail' } });
    await store.close();
  });

  it('with a chain key, a rewritten-and-rehashed chain does not verify without the key; the legitimate chain does', async () => {
    const key = Buffer.from('k'.repeat(32));
    const store = await fresh(key);
    expect((await verifyAuditStore(store, key)).ok).toBe(true);
    expect(await verifyAuditStore(store, undefined)).toMatchObject({ ok: false, break: { seq: 1, problem: 'hash-mismatch' } });
    await store.close();
  });
});
