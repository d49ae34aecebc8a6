import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openOAuthSql, type OpenedSql } from '../../src/oauth/sql.js';
import { OAUTH_MIGRATIONS } from '../../src/oauth/migrations.js';
import { SqlOAuthStore, type OAuthClient } from '../../src/oauth/store.js';
import { tempDir } from '../helpers/gateway.js';

const schema = `oauth_${randomBytes(6).toString('hex')}`;
const backends: Array<[string, () => Promise<OpenedSql>, (sql: OpenedSql) => Promise<void>]> = [
  ['sqlite', () => openOAuthSql(`sqlite:${join(tempDir(), 'oauth.db')}`, { baseDir: '/', migrations: OAUTH_MIGRATIONS }), async () => undefined],
  [
    'postgres',
    () => openOAuthSql(process.env.RAMPART_TEST_PG_URL!, { baseDir: '/', schema, migrations: OAUTH_MIGRATIONS }),
    (sql) => sql.script(`DROP SCHEMA ${schema} CASCADE`),
  ],
];

describe.each(backends)('OAuthStore conformance on %s', (_name, open, drop) => {
  let sql: OpenedSql;
  let store: SqlOAuthStore;
  beforeAll(async () => {
    sql = await open();
    store = new SqlOAuthStore(sql);
  });
  afterAll(async () => {
    await drop(sql);
    await sql?.close();
  });

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

  it('adds a signing key once per kid (racing processes), lists by period and deletes old ones', async () => {
    const key = { kid: 'ES256-10', alg: 'ES256' as const, period: 10, publicJwk: { kty: 'EC' }, privateSealed: 'sealed', createdAt: 1 };
    expect(await store.addSigningKey(key)).toBe(true);
    expect(await store.addSigningKey({ ...key, privateSealed: 'other' })).toBe(false);
    await store.addSigningKey({ ...key, kid: 'ES256-11', period: 11 });
    expect((await store.listSigningKeys(10)).map((k) => [k.kid, k.privateSealed])).toEqual([['ES256-10', 'sealed'], ['ES256-11', 'sealed']]);
    expect(await store.deleteSigningKeysBefore(11)).toBe(1);
    expect((await store.listSigningKeys(0)).map((k) => k.kid)).toEqual(['ES256-11']);
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
