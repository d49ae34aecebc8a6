import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey, createSecretKey, generateKeyPairSync } from 'node:crypto';
import pino from 'pino';
import { importPublicJwk, keyFitsAlgorithm, KeyNotFound, KeySet } from '../../src/auth/key-set.js';
import { claimMappingSchema, identityFromClaims, bearerToken } from '../../src/auth/claims.js';
import { startLocalIdp, type LocalIdp } from '../helpers/local-idp.js';

const logger = pino({ level: 'silent' });
let idp: LocalIdp;
beforeAll(async () => (idp = await startLocalIdp()));
afterAll(async () => idp?.close());

describe('keyFitsAlgorithm (no algorithm confusion)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const ed = generateKeyPairSync('ed25519').publicKey;
  const secret = createSecretKey(Buffer.alloc(32, 1));
  it('never lets an HMAC algorithm use a public key, nor an asymmetric one use a secret', () => {
    expect(keyFitsAlgorithm(rsa, 'HS256')).toBe(false);
    expect(keyFitsAlgorithm(p256, 'HS256')).toBe(false);
    expect(keyFitsAlgorithm(secret, 'RS256')).toBe(false);
    expect(keyFitsAlgorithm(secret, 'HS256')).toBe(true);
  });
  it('matches key type and curve', () => {
    expect(keyFitsAlgorithm(rsa, 'RS256')).toBe(true);
    expect(keyFitsAlgorithm(rsa, 'ES256')).toBe(false);
    expect(keyFitsAlgorithm(p256, 'ES256')).toBe(true);
    expect(keyFitsAlgorithm(p256, 'ES384')).toBe(false);
    expect(keyFitsAlgorithm(ed, 'EdDSA')).toBe(true);
  });
  it('refuses symmetric keys inside a JWKS and drops private members', () => {
    expect(() => importPublicJwk({ kty: 'oct', k: 'AAAA' })).toThrow(/symmetric/);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const entry = importPublicJwk({ ...privateKey.export({ format: 'jwk' }), kid: 'k' });
    expect(entry.key.type).toBe('public');
  });
});

describe('KeySet', () => {
  it('resolves a static PEM key for its algorithm only', async () => {
    const pem = idp.rsa.publicPem;
    const set = new KeySet({ pem: [pem], logger });
    expect((await set.resolve({ alg: 'RS256' })).type).toBe('public');
    await expect(set.resolve({ alg: 'HS256' })).rejects.toThrow(KeyNotFound);
    expect(createPublicKey(pem).equals(await set.resolve({ alg: 'RS256' }))).toBe(true);
  });

  it('refetches on an unknown kid at most once per interval (injected clock)', async () => {
    let now = 1_000_000;
    const set = new KeySet({ remote: { url: idp.jwksUrl, refreshMs: 3_600_000, minRefetchMs: 10_000, timeoutMs: 2000 }, logger, now: () => now });
    await set.start();
    try {
      const fetches = idp.jwksFetches;
      await expect(set.resolve({ alg: 'RS256', kid: 'future' })).rejects.toThrow(KeyNotFound);
      expect(idp.jwksFetches).toBe(fetches + 1);
      await expect(set.resolve({ alg: 'RS256', kid: 'future' })).rejects.toThrow(KeyNotFound);
      expect(idp.jwksFetches).toBe(fetches + 1);
      const rotated = await idp.rotate();
      now += 10_000;
      expect((await set.resolve({ alg: 'RS256', kid: rotated.kid })).type).toBe('public');
      expect(idp.jwksFetches).toBe(fetches + 2);
    } finally {
      set.close();
    }
  });

  it('keeps the previous keys when the JWKS endpoint fails', async () => {
    const set = new KeySet({ remote: { url: idp.jwksUrl, refreshMs: 3_600_000, minRefetchMs: 0, timeoutMs: 2000 }, logger });
    await set.start();
    const size = set.size;
    const broken = new KeySet({ remote: { url: `${idp.url}/missing`, refreshMs: 3_600_000, minRefetchMs: 0, timeoutMs: 2000 }, logger });
    await broken.start();
    expect(broken.size).toBe(0);
    expect(size).toBe(2);
    set.close();
    broken.close();
  });
});

describe('claims → identity', () => {
  const mapping = claimMappingSchema.parse({ roles: 'realm_access.roles', tenant: 'tid' });
  it('maps sub, scope/scp, roles and tenant', () => {
    const id = identityFromClaims({ sub: 'svc', scope: 'pets:read pets:write', realm_access: { roles: ['admin'] }, tid: 't1' }, mapping, 'jwt', 'j1');
    expect(id).toMatchObject({ consumer: 'svc', scopes: ['pets:read', 'pets:write'], roles: ['admin'], tenant: 't1', credentialId: 'j1' });
    expect(identityFromClaims({ sub: 'svc', scp: ['a', 'b'] }, mapping, 'jwt', undefined)).toMatchObject({ scopes: ['a', 'b'] });
  });
  it('refuses claims without a usable consumer, and reads own properties only', () => {
    expect(typeof identityFromClaims({ scope: 'x' }, mapping, 'jwt', undefined)).toBe('string');
    expect(typeof identityFromClaims({ sub: 42 }, mapping, 'jwt', undefined)).toBe('string');
    const id = identityFromClaims({ sub: 'svc', realm_access: {} }, claimMappingSchema.parse({ roles: 'realm_access.constructor' }), 'jwt', undefined);
    expect(id).toMatchObject({ roles: [] });
  });
  it('extracts only Bearer credentials', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
