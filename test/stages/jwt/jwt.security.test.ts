import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { call, TEST_LISTENERS } from '../../helpers/gateway.js';
import { startCapturingGateway, type CapturingGateway } from '../../helpers/capture-gateway.js';
import { startLocalIdp, type LocalIdp } from '../../helpers/local-idp.js';
import { parseConfigText, ConfigError } from '../../../src/config/load.js';

let idp: LocalIdp;
let gw: CapturingGateway;
const revoked = new Set<string>();

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const get = (path: string, token?: string) =>
  call(`${gw.https}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  idp = await startLocalIdp();
  gw = await startCapturingGateway(`${TEST_LISTENERS}
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - type: jwt
        issuer: ${idp.issuer}
        audience: pets-api
        algorithms: [RS256, ES256]
        jwksUrl: ${idp.jwksUrl}
        jwks: { minRefetchSeconds: 60 }
        requiredClaims: [sub]
        maxTokenBytes: 2048
      - { type: authorize, anyAuthenticated: true }   # these tests exercise authentication only
  - id: public
    path: /public/**
    upstream: pets
    stripPrefix: /public
    stages:
      - type: jwt
        issuer: ${idp.issuer}
        audience: pets-api
        algorithms: [RS256]
        jwksUrl: ${idp.jwksUrl}
      - type: anonymous
`);
  gw.gateway.services.tokenRevocations = { isRevoked: (jti) => revoked.has(jti), isClientRevoked: () => false };
});
afterAll(async () => {
  await gw?.stop();
  await idp?.close();
});

function expectInvalidToken(res: Awaited<ReturnType<typeof get>>): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer realm="rampart", error="invalid_token"');
  expect(res.json()).toMatchObject({ code: 'RAMPART_AUTH_INVALID_TOKEN', detail: 'The access token is invalid.' });
}

describe('jwt stage: attacks and their legitimate twins', () => {
  it('accepts a valid RS256 token and a valid ES256 token', async () => {
    expect((await get('/pets', await idp.sign())).status).toBe(200);
    expect((await get('/pets', await idp.sign({}, { alg: 'ES256' }))).status).toBe(200);
  });

  it('refuses to forward a validly signed claim that would inject a header upstream; a plain subject passes', async () => {
    const res = await get('/pets', await idp.sign({ sub: 'alice\r\nx-rampart-roles: admin' }));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json()).toMatchObject({ status: 400, code: 'RAMPART_BAD_REQUEST' });
    expect(res.text).not.toContain('x-rampart-roles');
    expect((await get('/pets', await idp.sign({ sub: 'alice' }))).status).toBe(200);
  });

  it('refuses alg "none" (unsigned token)', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: idp.issuer, aud: 'pets-api', sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 })}.`;
    expectInvalidToken(await get('/pets', unsigned));
  });

  it('refuses HS256 "signed" with the RSA public key (algorithm confusion)', async () => {
    const header = b64({ alg: 'HS256', typ: 'JWT', kid: idp.rsa.kid });
    const payload = b64({ iss: idp.issuer, aud: 'pets-api', sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 60 });
    for (const secret of [idp.rsa.publicPem, JSON.stringify(idp.rsa.publicJwk)]) {
      const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      expectInvalidToken(await get('/pets', `${header}.${payload}.${sig}`));
    }
    const reasons = gw.events.filter((e) => e.type === 'auth.failure').map((e) => e.reason);
    expect(reasons.some((r) => r?.includes('ALG_NOT_ALLOWED'))).toBe(true);
  });

  it('refuses an HS* algorithm next to public keys at config load', () => {
    const yaml = `upstreams: { u: { url: "http://127.0.0.1:1" } }
routes: [{ id: r, path: /x, upstream: u, stages: [{ type: jwt, issuer: i, audience: a, algorithms: [RS256, HS256], jwksUrl: "https://idp/jwks", secret: "${'s'.repeat(40)}" }] }]`;
    expect(() => parseConfigText(yaml)).toThrow(ConfigError);
    expect(() => parseConfigText(yaml.replace('[RS256, HS256]', '[RS256, none]'))).toThrow(ConfigError);
  });

  it('refuses an expired token; accepts one expired within the clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectInvalidToken(await get('/pets', await idp.sign({ iat: now - 600, exp: now - 120 })));
    expect((await get('/pets', await idp.sign({ iat: now - 600, exp: now - 5 }))).status).toBe(200);
  });

  it('refuses a token without exp', async () => {
    expectInvalidToken(await get('/pets', await idp.sign({ exp: undefined })));
  });

  it('refuses a not-yet-valid token; accepts one whose nbf is now', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectInvalidToken(await get('/pets', await idp.sign({ nbf: now + 600 })));
    expect((await get('/pets', await idp.sign({ nbf: now }))).status).toBe(200);
  });

  it('refuses a token for another audience or from another issuer', async () => {
    expectInvalidToken(await get('/pets', await idp.sign({ aud: 'billing-api' })));
    expectInvalidToken(await get('/pets', await idp.sign({ iss: 'https://evil.example.com/' })));
    expect((await get('/pets', await idp.sign({ aud: ['billing-api', 'pets-api'] }))).status).toBe(200);
  });

  it('refuses a tampered payload', async () => {
    const [h, , s] = (await idp.sign({ sub: 'alice' })).split('.');
    const forged = b64({ iss: idp.issuer, aud: 'pets-api', sub: 'admin', exp: Math.floor(Date.now() / 1000) + 60 });
    expectInvalidToken(await get('/pets', `${h}.${forged}.${s}`));
  });

  it('refuses a token missing a required claim', async () => {
    expectInvalidToken(await get('/pets', await idp.sign({ sub: undefined })));
  });

  it('refuses an oversized token before decoding it', async () => {
    const big = await idp.sign({ padding: 'x'.repeat(3000) });
    expectInvalidToken(await get('/pets', big));
    expect(gw.events.some((e) => e.reason?.includes('exceeds maxTokenBytes'))).toBe(true);
  });

  it('accepts a token signed with a rotated key after one refetch; rate-limits refetches for unknown kids', async () => {
    const before = idp.jwksFetches;
    const rotated = await idp.rotate();
    const token = await idp.sign({}, { key: rotated });
    expect((await get('/pets', token)).status).toBe(200);
    expect(idp.jwksFetches).toBe(before + 1);
    // A second unknown kid right away does not hammer the IdP (minRefetchSeconds: 60).
    expectInvalidToken(await get('/pets', await idp.sign({}, { kid: 'no-such-kid' })));
    expect(idp.jwksFetches).toBe(before + 1);
  });

  it('refuses a revoked token on every request, even once cached; its twin still passes', async () => {
    const token = await idp.sign({ jti: 'tok-revoke-me' });
    const twin = await idp.sign({ jti: 'tok-keep-me' });
    expect((await get('/pets', token)).status).toBe(200);
    revoked.add('tok-revoke-me');
    expectInvalidToken(await get('/pets', token));
    expect((await get('/pets', twin)).status).toBe(200);
  });

  it('answers the same body whatever failed; the reason is only in the auth.failure event', async () => {
    const now = Math.floor(Date.now() / 1000);
    const strip = (text: string): unknown => ({ ...JSON.parse(text), instance: undefined });
    const expired = await get('/pets', await idp.sign({ exp: now - 3600 }));
    const wrongAud = await get('/pets', await idp.sign({ aud: 'other' }));
    const badSig = await get('/pets', `${(await idp.sign()).slice(0, -4)}AAAA`);
    expect(strip(expired.text)).toEqual(strip(wrongAud.text));
    expect(strip(expired.text)).toEqual(strip(badSig.text));
    for (const res of [expired, wrongAud, badSig]) {
      const event = gw.events.find((e) => e.type === 'auth.failure' && e.requestId === res.headers['x-request-id']);
      expect(event?.reason).toBeTruthy();
      expect(res.text).not.toContain(event!.reason!);
    }
  });

  it('treats a request without a bearer JWT as unauthenticated (401 with the challenge)', async () => {
    const res = await get('/pets');
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ code: 'RAMPART_AUTH_REQUIRED' });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="rampart"');
    expect((await get('/pets', 'opaque-not-a-jwt')).status).toBe(401);
  });

  it('anonymous route: no credential → anonymous access; a bad credential is still refused', async () => {
    expect((await get('/public/pets')).status).toBe(200);
    expect((await get('/public/pets', await idp.sign())).status).toBe(200);
    expectInvalidToken(await get('/public/pets', await idp.sign({ aud: 'other' })));
  });

  it('refuses anonymous before another authentication stage at config load', () => {
    const yaml = `upstreams: { u: { url: "http://127.0.0.1:1" } }
routes: [{ id: r, path: /x, upstream: u, stages: [{ type: anonymous }, { type: jwt, issuer: i, audience: a, algorithms: [RS256], jwksUrl: "https://idp/jwks" }] }]`;
    expect(() => parseConfigText(yaml)).toThrow(/anonymous must be the last/);
  });

  it('records the attempted principal of a well-signed but expired token', async () => {
    const res = await get('/pets', await idp.sign({ sub: 'bob', exp: Math.floor(Date.now() / 1000) - 3600 }));
    expect(res.status).toBe(401);
    const event = gw.events.find((e) => e.type === 'auth.failure' && e.requestId === res.headers['x-request-id']);
    expect(event?.data).toMatchObject({ attemptedPrincipal: 'bob' });
    // A forged signature names no principal: the lockout cannot be aimed at a consumer with garbage tokens.
    const [h, , s] = (await idp.sign({ sub: 'alice' })).split('.');
    const forged = await get('/pets', `${h}.${b64({ iss: idp.issuer, aud: 'pets-api', sub: 'carol', exp: 1 })}.${s}`);
    const forgedEvent = gw.events.find((e) => e.type === 'auth.failure' && e.requestId === forged.headers['x-request-id']);
    expect(forgedEvent?.data?.attemptedPrincipal).toBeUndefined();
  });
});
