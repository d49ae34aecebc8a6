import { afterAll, describe, expect, it } from 'vitest';
import { runMigrations, planMigrations } from '../../src/stores/migrate.js';
import { STORE_MIGRATIONS } from '../../src/stores/migrations.js';
import { backends } from './backends.js';

const extra = [{ id: '9001_test_widgets', sqlite: 'CREATE TABLE widgets (id TEXT PRIMARY KEY)', postgres: 'CREATE TABLE widgets (id TEXT PRIMARY KEY)' }];

describe.each(backends('migrations'))('migrations on $name', (backend) => {
  afterAll(() => backend.cleanup());

  it('applies each migration once; other modules contribute their own lists', async () => {
    const store = await backend.open();
    expect(await store.migrate()).toEqual([]);
    expect(await runMigrations(store.sql, [...STORE_MIGRATIONS, extra])).toEqual(['9001_test_widgets']);
    expect(await runMigrations(store.sql, [...STORE_MIGRATIONS, extra])).toEqual([]);
    await store.sql.execute('INSERT INTO widgets (id) VALUES (?)', ['w1']);
    expect(await store.sql.query('SELECT id FROM widgets')).toEqual([{ id: 'w1' }]);
  });

  it('runs concurrent migrators safely', async () => {
    const store = await backend.open();
    const more = [{ id: '9002_test_gadgets', sqlite: 'CREATE TABLE gadgets (id TEXT)', postgres: 'CREATE TABLE gadgets (id TEXT)' }];
    const results = await Promise.all([runMigrations(store.sql, [more]), runMigrations(store.sql, [more])]);
    expect(results.flat()).toEqual(['9002_test_gadgets']);
  });

  it('rolls back a failing migration completely', async () => {
    const store = await backend.open();
    const bad = [
      { id: '9003_test_ok', sqlite: 'CREATE TABLE ok_t (id TEXT)', postgres: 'CREATE TABLE ok_t (id TEXT)' },
      { id: '9004_test_bad', sqlite: 'CREATE TABLE nonsense (', postgres: 'CREATE TABLE nonsense (' },
    ];
    await expect(runMigrations(store.sql, [bad])).rejects.toThrow();
    const ids = (await store.sql.query<{ id: string }>('SELECT id FROM rampart_migrations')).map((r) => r.id);
    expect(ids).not.toContain('9003_test_ok');
  });
});

describe('planMigrations', () => {
  it('orders by id and refuses duplicate ids', () => {
    expect(planMigrations([[{ id: '0002_b', sqlite: '', postgres: '' }], [{ id: '0001_a', sqlite: '', postgres: '' }]]).map((m) => m.id)).toEqual(['0001_a', '0002_b']);
    expect(() => planMigrations([[{ id: 'x', sqlite: '', postgres: '' }], [{ id: 'x', sqlite: '', postgres: '' }]])).toThrow(/duplicate/);
  });
});
