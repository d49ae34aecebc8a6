import { afterAll, describe, expect, it } from 'vitest';
import { StoreConflictError, type SigningKeyRecord } from '../../src/stores/contracts.js';
import { backends } from './backends.js';

const key = (kid: string, activatesAt: number, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
  kid,
  algorithm: 'ES256',
  publicJwk: { kty: 'EC', crv: 'P-256', x: 'abc', y: 'def', kid },
  createdAt: activatesAt,
  activatesAt,
  retiresAt: null,
  removeAt: null,
  ...overrides,
});

describe.each(backends('signingkeys'))('SigningKeyStore on $name', (backend) => {
  afterAll(() => backend.cleanup());

  it('lists keys not yet removed, newest activation first, every field intact', async () => {
    const store = await backend.open();
    const a = key('a', 100);
    const b = key('b', 200);
    const gone = key('gone', 50, { retiresAt: 60, removeAt: 70 });
    for (const k of [a, b, gone]) await store.createSigningKey(k);
    expect(await store.listSigningKeys(1000)).toEqual([b, a]);
    expect((await store.listSigningKeys(65)).map((k) => k.kid)).toEqual(['b', 'a', 'gone']);
    await expect(store.createSigningKey(key('a', 1))).rejects.toBeInstanceOf(StoreConflictError);
  });

  it('retires and schedules removal', async () => {
    const store = await backend.open();
    await store.createSigningKey(key('k', 1));
    expect(await store.updateSigningKey('k', { retiresAt: 10, removeAt: 20 })).toEqual(key('k', 1, { retiresAt: 10, removeAt: 20 }));
    expect(await store.listSigningKeys(20)).toEqual([]);
    expect(await store.updateSigningKey('missing', { retiresAt: 1 })).toBeUndefined();
  });
});
