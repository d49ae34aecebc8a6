import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startGateway, TEST_LISTENERS, type TestGateway } from '../../helpers/gateway.js';
import { startLocalIdp, type LocalIdp } from '../../helpers/local-idp.js';

let idp: LocalIdp;
let gw: TestGateway;
const get = (path: string, token: string) => call(`${gw.https}${path}`, { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  idp = await startLocalIdp();
  const stage = (secret: string, url = idp.introspectionUrl) => `
      - type: introspection
        url: ${url}
        clientId: gateway
        clientSecret: ${secret}
        issuer: ${idp.issuer}
        audience: pets-api
        maxCacheSeconds: 60
      - { type: authorize, anyAuthenticated: true }`;
  gw = await startGateway(`${TEST_LISTENERS}
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages:${stage('gateway-secret')}
  - id: wrong-secret
    path: /w/**
    upstream: pets
    stripPrefix: /w
    stages:${stage('not-the-secret')}
  - id: idp-down
    path: /d/**
    upstream: pets
    stripPrefix: /d
    stages:${stage('gateway-secret', 'http://127.0.0.1:1/introspect')}
`);
});
afterAll(async () => {
  await gw?.stop();
  await idp?.close();
});

const future = (): number => Math.floor(Date.now() / 1000) + 300;

describe('introspection stage (RFC 7662): attacks and legitimate twins', () => {
  it('accepts an active token and reuses the answer from the cache', async () => {
    const token = idp.issueOpaque({ sub: 'svc-a', iss: idp.issuer, aud: 'pets-api', exp: future(), scope: 'pets:read' });
    const calls = idp.introspectionCalls;
    expect((await get('/pets', token)).status).toBe(200);
    expect((await get('/pets', token)).status).toBe(200);
    expect(idp.introspectionCalls).toBe(calls + 1);
  });

  it('refuses an unknown (inactive) token, and caches that verdict briefly', async () => {
    const calls = idp.introspectionCalls;
    const res = await get('/pets', 'made-up-token');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="rampart", error="invalid_token"');
    expect((await get('/pets', 'made-up-token')).status).toBe(401);
    expect(idp.introspectionCalls).toBe(calls + 1);
  });

  it('enforces exp locally even when the IdP still says active', async () => {
    const token = idp.issueOpaque({ sub: 'svc-a', iss: idp.issuer, aud: 'pets-api', exp: Math.floor(Date.now() / 1000) - 1 });
    expect((await get('/pets', token)).status).toBe(401);
  });

  it('refuses a token of another issuer or audience', async () => {
    expect((await get('/pets', idp.issueOpaque({ sub: 'x', iss: 'https://evil/', aud: 'pets-api', exp: future() }))).status).toBe(401);
    expect((await get('/pets', idp.issueOpaque({ sub: 'x', iss: idp.issuer, aud: 'billing', exp: future() }))).status).toBe(401);
  });

  it('fails closed with 503 when the IdP refuses the gateway or does not answer', async () => {
    const token = idp.issueOpaque({ sub: 'svc-a', iss: idp.issuer, aud: 'pets-api', exp: future() });
    for (const path of ['/w/pets', '/d/pets']) {
      const res = await get(path, token);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ code: 'RAMPART_AUTH_UNAVAILABLE' });
    }
  });
});
