import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreConflictError, type AdminTokenRecord } from '../../src/stores/contracts.js';
import { backends } from './backends.js';

function token(overrides: Partial<AdminTokenRecord> = {}): AdminTokenRecord {
  return {
    id: randomUUID(),
    name: 'ops',
    role: 'operator',
    prefix: 'rk_admin_abcdefgh',
    hash: randomUUID().replace(/-/g, '').repeat(2),
    createdAt: 1000,
    createdBy: 'bootstrap',
    revokedAt: null,
    ...overrides,
  };
}

describe.each(backends('admintokens'))('AdminTokenStore on $name', (backend) => {
  afterAll(() => backend.cleanup());

  it('creates, finds by hash and id, lists and counts active tokens', async () => {
    const store = await backend.open();
    const a = token({ createdAt: 1 });
    const b = token({ role: 'auditor', createdAt: 2 });
    await store.createAdminToken(a);
    await store.createAdminToken(b);
    expect(await store.findAdminTokenByHash(a.hash)).toEqual(a);
    expect(await store.getAdminToken(b.id)).toEqual(b);
    expect(await store.findAdminTokenByHash('f'.repeat(64))).toBeUndefined();
    expect((await store.listAdminTokens()).map((t) => t.id)).toEqual([a.id, b.id]);
    expect(await store.countActiveAdminTokens()).toBe(2);
    await expect(store.createAdminToken(token({ hash: a.hash }))).rejects.toBeInstanceOf(StoreConflictError);
  });

  it('revokes once (the first revocation time stays)', async () => {
    const store = await backend.open();
    const a = token();
    await store.createAdminToken(a);
    expect((await store.revokeAdminToken(a.id, 10))?.revokedAt).toBe(10);
    expect((await store.revokeAdminToken(a.id, 20))?.revokedAt).toBe(10);
    expect(await store.countActiveAdminTokens()).toBe(0);
    expect(await store.revokeAdminToken('missing', 1)).toBeUndefined();
  });
});
