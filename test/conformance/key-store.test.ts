import { afterAll, describe, expect, it } from 'vitest';
import { StoreConflictError } from '../../src/stores/contracts.js';
import { backends } from './backends.js';
import { apiKey, consumer } from './fixtures.js';

describe.each(backends('keys'))('KeyStore on $name', (backend) => {
  afterAll(() => backend.cleanup());

  it('creates keys and finds them by id and by hash, every field intact', async () => {
    const store = await backend.open();
    const c = consumer();
    await store.createConsumer(c);
    const k = apiKey(c.id, { scopes: ['pets:read'], roles: [], expiresAt: 1_800_000_000_000, rotatedFrom: 'old' });
    await store.createKey(k);
    expect(await store.getKey(k.id)).toEqual(k);
    expect(await store.findKeyByHash(k.hash)).toEqual(k);
    expect(await store.findKeyByHash('0'.repeat(64))).toBeUndefined();
  });

  it('refuses a duplicate hash, and a key of an unknown consumer', async () => {
    const store = await backend.open();
    const c = consumer();
    await store.createConsumer(c);
    const k = apiKey(c.id);
    await store.createKey(k);
    await expect(store.createKey(apiKey(c.id, { hash: k.hash }))).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.createKey(apiKey('no-such-consumer'))).rejects.toThrow();
  });

  it('updates revocation, expiry and replacement', async () => {
    const store = await backend.open();
    const c = consumer();
    await store.createConsumer(c);
    const k = apiKey(c.id);
    await store.createKey(k);
    const updated = await store.updateKey(k.id, { revokedAt: 5, expiresAt: 6, replacedBy: 'new' });
    expect(updated).toEqual({ ...k, revokedAt: 5, expiresAt: 6, replacedBy: 'new' });
    expect(await store.updateKey('missing', { revokedAt: 1 })).toBeUndefined();
  });

  it('lists keys per consumer in id order with pagination', async () => {
    const store = await backend.open();
    const a = consumer();
    const b = consumer();
    await store.createConsumer(a);
    await store.createConsumer(b);
    const keys = [apiKey(a.id, { id: 'k1' }), apiKey(a.id, { id: 'k2' }), apiKey(b.id, { id: 'k3' })];
    for (const k of keys) await store.createKey(k);
    expect((await store.listKeys({ consumerId: a.id }, { limit: 10 })).map((k) => k.id)).toEqual(['k1', 'k2']);
    expect((await store.listKeys({}, { limit: 10, after: 'k1' })).map((k) => k.id)).toEqual(['k2', 'k3']);
    expect((await store.listKeys({}, { limit: 1 })).map((k) => k.id)).toEqual(['k1']);
  });

  it('records last use in batches, never moving backwards', async () => {
    const store = await backend.open();
    const c = consumer();
    await store.createConsumer(c);
    const k = apiKey(c.id);
    await store.createKey(k);
    await store.recordKeyUse([{ id: k.id, at: 100 }]);
    await store.recordKeyUse([{ id: k.id, at: 50 }, { id: 'unknown', at: 10 }]);
    expect((await store.getKey(k.id))?.lastUsedAt).toBe(100);
    await store.recordKeyUse([]);
  });

  it('bumps a shared revocation version', async () => {
    const store = await backend.open();
    const v0 = await store.revocationVersion();
    expect(await store.bumpRevocationVersion()).toBe(v0 + 1);
    expect(await store.revocationVersion()).toBe(v0 + 1);
  });
});
