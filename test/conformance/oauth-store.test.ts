import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlOAuthStore, type OAuthClient } from '../../src/oauth/store.js';
import { backends } from './backends.js';

describe.each(backends('oauth'))('OAuthStore conformance on $name', (backend) => {
  let store: SqlOAuthStore;
  beforeAll(async () => {
    store = new SqlOAuthStore((await backend.open()).sql);
  });
  afterAll(() => backend.cleanup());

  const client: OAuthClient = { id: 'c1', name: 'billing', secretHash: 'ab'.repeat(32), jwks: null, scopes: ['pets:read'], status: 'active', createdAt: 1000, revokedAt: null };

  it('creates, reads, lists and revokes clients', async () => {
    await store.createClient(client);
    await store.createClient({ ...client, id: 'c2', name: 'keys-only', secretHash: null, jwks: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }], createdAt: 2000 });
    expect(await store.getClient('c1')).toEqual(client);
    expect((await store.getClient('c2'))?.jwks).toEqual([{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }]);
    expect(await store.getClient('nope')).toBeUndefined();
    expect((await store.listClients()).map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(await store.revokeClient('c1', 3000)).toBe(true);
    expect(await store.revokeClient('c1', 4000)).toBe(false);
    expect(await store.getClient('c1')).toMatchObject({ status: 'revoked', revokedAt: 3000 });
  });

  it('records revocations idempotently and lists the live ones since a time', async () => {
    await store.revokeToken({ jti: 'j1', clientId: 'c1', expiresAt: 10_000, revokedAt: 100 });
    await store.revokeToken({ jti: 'j1', clientId: 'c1', expiresAt: 10_000, revokedAt: 100 });
    await store.revokeToken({ jti: 'j2', clientId: 'c1', expiresAt: 500, revokedAt: 200 });
    expect((await store.listRevocations(0, 0)).map((r) => r.jti)).toEqual(['j1', 'j2']);
    expect((await store.listRevocations(150, 0)).map((r) => r.jti)).toEqual(['j2']);
    expect((await store.listRevocations(0, 600)).map((r) => r.jti)).toEqual(['j1']);
    await store.purgeExpired(600);
    expect((await store.listRevocations(0, 0)).map((r) => r.jti)).toEqual(['j1']);
  });

  it('refuses a replayed client assertion id', async () => {
    expect(await store.useAssertion('a1', 5000)).toBe(true);
    expect(await store.useAssertion('a1', 5000)).toBe(false);
    await store.purgeExpired(6000);
    expect(await store.useAssertion('a1', 9000)).toBe(true);
  });
});
