import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader, type CryptoKey } from 'jose';
import { call, TEST_LISTENERS, tempDir } from '../helpers/gateway.js';
import { startCapturingGateway, type CapturingGateway } from '../helpers/capture-gateway.js';
import { startLocalIdp, type LocalIdp } from '../helpers/local-idp.js';
import type { OAuthServer } from '../../src/oauth/server.js';

const ISSUER = 'https://auth.test.example';
let gw: CapturingGateway;
let gw2: CapturingGateway;
let idp: LocalIdp;
let oauth: OAuthServer;
let client: { client_id: string; client_secret?: string };

const config = (dir: string) => `${TEST_LISTENERS}
store: sqlite:${dir}/rampart.db
oauth:
  issuer: ${ISSUER}
  audience: pets-api
  tokenTtlSeconds: 600
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - { id: oauth, path: /oauth/**, upstream: pets, stages: [{ type: lockout, by: [principal], threshold: 3 }, { type: oauth2_server }] }
  - { id: oauth-meta, path: /.well-known/**, upstream: pets, stages: [{ type: oauth2_server }] }
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - { type: jwt, ownIssuer: true, issuer: "${ISSUER}", audience: pets-api, algorithms: [ES256], typ: at+jwt }
      - { type: authorize, anyAuthenticated: true }
`;

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const post = (g: CapturingGateway, path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  call(`${g.https}${path}`, { method: 'POST', body: form(body), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

async function tokenFor(id: string, secret: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await post(gw, '/oauth/token', { grant_type: 'client_credentials', ...extra }, { authorization: basic(id, secret) });
  expect(res.status).toBe(200);
  return res.json<{ access_token: string }>().access_token;
}

beforeAll(async () => {
  const dir = tempDir();
  idp = await startLocalIdp();
  gw = await startCapturingGateway(config(dir), { dir });
  // A second gateway process on the same store (another worker or host).
  gw2 = await startCapturingGateway(config(dir), { dir: tempDir() });
  oauth = gw.gateway.services.oauth!;
  client = await oauth.createClient({ name: 'billing', scopes: ['pets:read', 'pets:write'] });
});
afterAll(async () => {
  await gw?.stop();
  await gw2?.stop();
  await idp?.close();
});

describe('OAuth server: discovery', () => {
  it('serves RFC 8414 metadata and the JWKS (current and next key)', async () => {
    const meta = (await call(`${gw.https}/.well-known/oauth-authorization-server`)).json();
    expect(meta).toMatchObject({ issuer: ISSUER, token_endpoint: `${ISSUER}/oauth/token`, grant_types_supported: ['client_credentials'] });
    const jwks = (await call(`${gw.https}/.well-known/jwks.json`)).json<{ keys: Array<{ kid: string; d?: string }> }>();
    expect(jwks.keys.length).toBe(2);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });
});

describe('OAuth server: client_credentials, attacks and legitimate twins', () => {
  it('issues an RFC 9068 token with client_secret_basic that the jwt stage accepts', async () => {
    const token = await tokenFor(client.client_id, client.client_secret!);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(decodeJwt(token)).toMatchObject({ iss: ISSUER, aud: 'pets-api', sub: client.client_id, client_id: client.client_id, scope: 'pets:read pets:write' });
    expect((await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('issues a token with client_secret_post and a narrowed scope; refuses a scope not granted', async () => {
    const ok = await post(gw, '/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret!, scope: 'pets:read' });
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'pets:read' });
    const bad = await post(gw, '/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret!, scope: 'pets:read admin' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ error: 'invalid_scope' });
  });

  it('refuses a wrong secret and an unknown client with the same answer; the event names the client', async () => {
    const wrong = await post(gw, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(client.client_id, 'rcs_wrong') });
    const unknown = await post(gw, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic('rc_nobody', 'rcs_wrong') });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_client' });
      expect(res.headers['www-authenticate']).toBe('Basic realm="rampart"');
    }
    const event = gw.events.find((e) => e.type === 'auth.failure' && e.requestId === wrong.headers['x-request-id']);
    expect(event).toMatchObject({ reason: 'invalid_client: wrong client secret', data: { attemptedPrincipal: client.client_id } });
  });

  it('refuses two authentication methods at once, an unsupported grant, and a non-form body', async () => {
    const two = await post(gw, '/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret! }, { authorization: basic(client.client_id, client.client_secret!) });
    expect(two.json()).toEqual({ error: 'invalid_request' });
    const grant = await post(gw, '/oauth/token', { grant_type: 'password', username: 'a', password: 'b' }, { authorization: basic(client.client_id, client.client_secret!) });
    expect(grant.json()).toEqual({ error: 'unsupported_grant_type' });
    const json = await call(`${gw.https}/oauth/token`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(400);
    const repeated = await call(`${gw.https}/oauth/token`, { method: 'POST', body: 'grant_type=client_credentials&scope=a&scope=b', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret!) } });
    expect(repeated.json()).toEqual({ error: 'invalid_request' });
  });

  it('refuses tokens of another issuer on the ownIssuer route', async () => {
    const foreign = await idp.sign({ iss: ISSUER, aud: 'pets-api' }, { alg: 'ES256', header: { typ: 'at+jwt' } });
    expect((await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${foreign}` } })).status).toBe(401);
  });

  it('refuses a revoked client, and every token it still holds on every process; other clients keep working', async () => {
    const doomed = await oauth.createClient({ name: 'doomed', scopes: ['pets:read'] });
    const live = await tokenFor(doomed.client_id, doomed.client_secret!);
    const bystander = await tokenFor(client.client_id, client.client_secret!);
    expect((await call(`${gw2.https}/pets`, { headers: { authorization: `Bearer ${live}` } })).status).toBe(200); // cached as verified there
    expect(await oauth.revokeClient(doomed.client_id)).toBe(true);
    const res = await post(gw, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(doomed.client_id, doomed.client_secret!) });
    expect(res.status).toBe(401);
    expect((await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${live}` } })).status).toBe(401);
    await gw2.gateway.services.oauth!.revocations.poll();
    expect((await call(`${gw2.https}/pets`, { headers: { authorization: `Bearer ${live}` } })).status).toBe(401);
    expect((await call(`${gw2.https}/pets`, { headers: { authorization: `Bearer ${bystander}` } })).status).toBe(200);
    const auth = { authorization: basic(client.client_id, client.client_secret!) };
    expect((await post(gw, '/oauth/introspect', { token: live }, auth)).json()).toEqual({ active: false });
  });
});

describe('lockout of a client after repeated failures', () => {
  it('locks the targeted client_id after 3 wrong secrets (even with the right one); other clients still work', async () => {
    const victim = await oauth.createClient({ name: 'victim', scopes: ['pets:read'] });
    for (let i = 0; i < 3; i++) {
      expect((await post(gw, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(victim.client_id, 'rcs_guess') })).status).toBe(401);
    }
    const locked = await post(gw, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(victim.client_id, victim.client_secret!) });
    expect(locked.json()).toMatchObject({ code: 'RAMPART_AUTH_LOCKED_OUT' });
    expect(locked.headers['retry-after']).toBeDefined();
    expect((await post(gw, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic(client.client_id, client.client_secret!) })).status).toBe(200);
  });
});

describe('private_key_jwt (RFC 7523)', () => {
  let key: CryptoKey;
  let keyClient: { client_id: string };
  const assertion = (k: CryptoKey) =>
    new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(keyClient.client_id)
      .setSubject(keyClient.client_id)
      .setAudience(`${ISSUER}/oauth/token`)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(k);
  const exchange = (a: string) => post(gw, '/oauth/token', { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a });

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    keyClient = await oauth.createClient({ name: 'signer', scopes: ['pets:read'], jwks: [{ ...(await exportJWK(pair.publicKey)), kid: 'c1' }] });
  });

  it('accepts a fresh assertion and refuses its replay', async () => {
    const a = await assertion(key);
    expect((await exchange(a)).status).toBe(200);
    expect((await exchange(a)).status).toBe(401);
  });

  it('refuses an assertion signed by another key, for another audience, or living too long', async () => {
    const other = (await generateKeyPair('ES256')).privateKey;
    expect((await exchange(await assertion(other))).status).toBe(401);
    const wrongAud = await new SignJWT({ jti: 'x1' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(keyClient.client_id).setSubject(keyClient.client_id).setAudience('https://elsewhere/token').setExpirationTime('2m').sign(key);
    expect((await exchange(wrongAud)).status).toBe(401);
    const longLived = await new SignJWT({ jti: 'x2' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(keyClient.client_id).setSubject(keyClient.client_id).setAudience(`${ISSUER}/oauth/token`).setExpirationTime('1h').sign(key);
    expect((await exchange(longLived)).status).toBe(401);
  });

  it('refuses registering a private or symmetric key as a client key', async () => {
    await expect(oauth.createClient({ name: 'bad', scopes: [], jwks: [{ kty: 'oct', k: 'c2VjcmV0' }] })).rejects.toThrow();
  });
});

describe('introspection (RFC 7662) and revocation (RFC 7009)', () => {
  it('reports an active token, then refuses it everywhere once revoked; its twin stays valid', async () => {
    const token = await tokenFor(client.client_id, client.client_secret!);
    const twin = await tokenFor(client.client_id, client.client_secret!);
    const auth = { authorization: basic(client.client_id, client.client_secret!) };
    expect((await post(gw, '/oauth/introspect', { token }, auth)).json()).toMatchObject({ active: true, client_id: client.client_id, scope: 'pets:read pets:write' });
    expect((await call(`${gw2.https}/pets`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    expect((await post(gw, '/oauth/revoke', { token }, auth)).status).toBe(200);
    expect((await post(gw, '/oauth/introspect', { token }, auth)).json()).toEqual({ active: false });
    expect((await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    // The other process learns it at its next poll (every revocationPollMs, 1 s by default).
    await gw2.gateway.services.oauth!.revocations.poll();
    expect((await call(`${gw2.https}/pets`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await call(`${gw2.https}/pets`, { headers: { authorization: `Bearer ${twin}` } })).status).toBe(200);
  });

  it('answers 200 to revoking garbage or another client’s token, without revoking it', async () => {
    const other = await oauth.createClient({ name: 'other', scopes: ['pets:read'] });
    const token = await tokenFor(client.client_id, client.client_secret!);
    expect((await post(gw, '/oauth/revoke', { token }, { authorization: basic(other.client_id, other.client_secret!) })).status).toBe(200);
    expect((await post(gw, '/oauth/revoke', { token: 'garbage' }, { authorization: basic(other.client_id, other.client_secret!) })).status).toBe(200);
    expect((await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('requires client authentication for introspection', async () => {
    const token = await tokenFor(client.client_id, client.client_secret!);
    expect((await post(gw, '/oauth/introspect', { token })).status).toBe(401);
  });
});
