import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startGateway, TEST_LISTENERS, type TestGateway } from '../../helpers/gateway.js';
import { adminCall, TEST_ADMIN_TOKEN } from '../../helpers/keys.js';

const YAML = `${TEST_LISTENERS}
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - { type: api_key, header: X-API-Key }
`;

describe('api_key stage', () => {
  let gw: TestGateway;
  let key: string;
  beforeAll(async () => {
    process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
    gw = await startGateway(YAML);
    delete process.env.RAMPART_ADMIN_TOKEN;
    expect((await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'billing', scopes: ['pets:read', 'pets:write'], roles: ['reader'], tenant: 'acme' })).status).toBe(201);
    const created = await adminCall(gw.admin, 'POST', '/admin/v1/keys', { consumer: 'billing', scopes: ['pets:read'] });
    expect(created.status).toBe(201);
    key = created.json<{ key: string }>().key;
  });
  afterAll(() => gw.stop());

  it('lets a valid key through by Bearer and by the configured header', async () => {
    expect((await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    const res = await call(`${gw.https}/pets`, { headers: { 'x-api-key': key } });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers 401 with every challenge when no credential is presented', async () => {
    const res = await call(`${gw.https}/pets`);
    expect(res.status).toBe(401);
    expect(res.json().code).toBe('RAMPART_AUTH_REQUIRED');
    expect(res.headers['www-authenticate']).toContain('Bearer realm="rampart"');
  });

  it('refuses an unknown key with the uniform body and a challenge', async () => {
    const res = await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${key.slice(0, -7)}x${key.slice(-6)}` } });
    expect(res.status).toBe(401);
    expect(res.json().code).toBe('RAMPART_AUTH_INVALID_KEY');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="rampart", error="invalid_token"$/);
  });
});
