import { crc32 } from 'node:zlib';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialHasher } from '../../src/keys/hash.js';
import { KeyService } from '../../src/keys/key-service.js';
import { generateCredential } from '../../src/keys/format.js';
import type { Consumer, Store } from '../../src/stores/contracts.js';
import { openStore } from '../../src/stores/open.js';
import { consumer as newConsumer } from '../conformance/fixtures.js';

const PEPPER = 'p'.repeat(40);
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('KeyService (clock injected)', () => {
  let store: Store;
  let keys: KeyService;
  let now: number;
  let c: Consumer;

  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    now = 1_700_000_000_000;
    keys = new KeyService({
      store,
      hasher: new CredentialHasher(PEPPER),
      environment: 'live',
      cacheTtlMs: 10_000,
      negativeCacheTtlMs: 5_000,
      cacheMaxEntries: 100,
      lastUsedFlushMs: 60_000,
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
    c = newConsumer();
    await store.createConsumer(c);
  });
  afterEach(async () => {
    await keys.close();
    await store.close();
  });

  it('verifies a new key, then answers from the cache synchronously', async () => {
    const { key, record } = await keys.create({ consumer: c, scopes: null, roles: null, expiresAt: null, createdBy: 't' });
    expect(record.hash).not.toContain(key);
    const first = await keys.check(key);
    expect(first).toMatchObject({ ok: true, consumer: { id: c.id } });
    const second = keys.check(key);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toMatchObject({ ok: true });
  });

  it('asks the store once, by the peppered hash, then answers from a cache keyed by the whole key', async () => {
    const { key, record } = await keys.create({ consumer: c, scopes: null, roles: null, expiresAt: null, createdBy: 't' });
    const asked: string[] = [];
    const find = store.findKeyByHash.bind(store);
    store.findKeyByHash = (hash) => {
      asked.push(hash);
      return find(hash);
    };
    expect(await keys.check(key)).toMatchObject({ ok: true });
    expect(keys.check(key)).toMatchObject({ ok: true });
    expect(asked).toEqual([record.hash]);
    // Another well-formed key of the same prefix is not a cache hit: it goes to the store and fails.
    const head = `${key.slice(0, 16)}${generateCredential('rk_live').slice(16, 36)}`;
    let n = crc32(head);
    let check = '';
    for (let i = 0; i < 6; i++, n = Math.floor(n / 62)) check = BASE62[n % 62]! + check;
    expect(await keys.check(`${head}_${check}`)).toMatchObject({ ok: false, reason: 'unknown key' });
    expect(asked).toHaveLength(2);
  });

  it('rotation with grace: both work until the grace ends, then only the new one', async () => {
    const old = await keys.create({ consumer: c, scopes: null, roles: null, expiresAt: null, createdBy: 't' });
    await keys.check(old.key);
    const rotated = await keys.rotate(old.record, c, 2000, 't');
    expect(rotated.record.rotatedFrom).toBe(old.record.id);
    expect(rotated.old.replacedBy).toBe(rotated.record.id);
    expect(await keys.check(old.key)).toMatchObject({ ok: true });
    expect(await keys.check(rotated.key)).toMatchObject({ ok: true });
    now += 2000;
    expect(await keys.check(old.key)).toMatchObject({ ok: false, reason: 'rotated key past its grace period' });
    expect(await keys.check(rotated.key)).toMatchObject({ ok: true });
  });

  it('rotation with grace 0 revokes the old key at once', async () => {
    const old = await keys.create({ consumer: c, scopes: null, roles: null, expiresAt: null, createdBy: 't' });
    const rotated = await keys.rotate(old.record, c, 0, 't');
    expect(await keys.check(old.key)).toMatchObject({ ok: false, reason: 'key revoked' });
    expect(await keys.check(rotated.key)).toMatchObject({ ok: true });
  });

  it('revocation bypasses the positive cache', async () => {
    const k = await keys.create({ consumer: c, scopes: null, roles: null, expiresAt: null, createdBy: 't' });
    expect(await keys.check(k.key)).toMatchObject({ ok: true });
    await keys.revoke(k.record);
    expect(await keys.check(k.key)).toMatchObject({ ok: false, reason: 'key revoked', principal: c.name });
  });

  it('expires keys at their expiry time', async () => {
    const k = await keys.create({ consumer: c, scopes: null, roles: null, expiresAt: now + 1000, createdBy: 't' });
    expect(await keys.check(k.key)).toMatchObject({ ok: true });
    now += 1000;
    expect(keys.check(k.key)).toMatchObject({ ok: false, reason: 'key expired' });
  });

  it('caches unknown keys for the negative TTL, then asks the store again', async () => {
    let lookups = 0;
    const find = store.findKeyByHash.bind(store);
    store.findKeyByHash = (h) => (lookups++, find(h));
    const stranger = generateCredential('rk_live');
    expect(await keys.check(stranger)).toMatchObject({ ok: false, reason: 'unknown key' });
    expect(keys.check(stranger)).toMatchObject({ ok: false, reason: 'unknown key (cached)' });
    expect(lookups).toBe(1);
    now += 5000;
    expect(await keys.check(stranger)).toMatchObject({ ok: false, reason: 'unknown key' });
    expect(lookups).toBe(2);
  });

  it('refuses malformed keys and keys of the other environment without a store lookup', async () => {
    let lookups = 0;
    const find = store.findKeyByHash.bind(store);
    store.findKeyByHash = (h) => (lookups++, find(h));
    expect(keys.check('rk_live_' + 'a'.repeat(28) + '_000000')).toMatchObject({ ok: false, malformed: true, reason: 'credential checksum mismatch' });
    expect(keys.check(generateCredential('rk_test'))).toMatchObject({ ok: false, malformed: true });
    expect(keys.check(generateCredential('rk_admin'))).toMatchObject({ ok: false, malformed: true });
    expect(lookups).toBe(0);
  });

  it('writes last-used times in one batch, not per request', async () => {
    const k = await keys.create({ consumer: c, scopes: null, roles: null, expiresAt: null, createdBy: 't' });
    await keys.check(k.key);
    now += 10;
    keys.check(k.key);
    expect((await store.getKey(k.record.id))?.lastUsedAt).toBeNull();
    await keys.flushUses();
    expect((await store.getKey(k.record.id))?.lastUsedAt).toBe(now);
  });

  it('keeps caches bounded under a flood of well-formed unknown keys', async () => {
    for (let i = 0; i < 300; i++) await keys.check(generateCredential('rk_live'));
    expect((keys as unknown as { negative: Map<string, number> }).negative.size).toBeLessThanOrEqual(100);
  });
});
