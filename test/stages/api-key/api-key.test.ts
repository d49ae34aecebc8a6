import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestContext } from '../../../src/core/context.js';
import { apiKeyStage } from '../../../src/stages/api-key/api-key.js';
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

describe('api_key identity', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
    gw = await startGateway(YAML);
    delete process.env.RAMPART_ADMIN_TOKEN;
  });
  afterAll(() => gw.stop());

  it('sets consumer, roles and scopes narrowed by the key, tenant and the key prefix as credential id', async () => {
    await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'ident', scopes: ['a', 'b', 'c'], roles: ['r1', 'r2'], tenant: 'acme' });
    const k = (await adminCall(gw.admin, 'POST', '/admin/v1/keys', { consumer: 'ident', scopes: ['b'], roles: ['r2'] })).json<{ key: string; prefix: string }>();
    const stage = await apiKeyStage.create(apiKeyStage.options.parse({ type: 'api_key' }), { services: gw.gateway.services, config: gw.gateway.config, route: undefined, baseDir: gw.dir });
    const ctx = new RequestContext({
      id: 'r1',
      req: { headers: { authorization: `Bearer ${k.key}` }, method: 'GET' } as unknown as IncomingMessage,
      res: {} as ServerResponse,
      secure: true,
      peerIp: '127.0.0.1',
      host: 'h',
      rawPath: '/pets',
      query: '',
      maxBodyBytes: 1,
    });
    await stage.handle!(ctx);
    expect(ctx.identity).toMatchObject({ consumer: 'ident', roles: ['r2'], scopes: ['b'], tenant: 'acme', method: 'api_key', credentialId: k.prefix });
    expect(ctx.attemptedPrincipal).toBe('ident');
    // Narrowing the consumer later narrows the key too (intersection at every check).
    await adminCall(gw.admin, 'PATCH', '/admin/v1/consumers/ident', { scopes: ['a'] });
    const again = new RequestContext({ id: 'r2', req: ctx.req, res: ctx.res, secure: true, peerIp: '127.0.0.1', host: 'h', rawPath: '/pets', query: '', maxBodyBytes: 1 });
    await stage.handle!(again);
    expect(again.identity?.scopes).toEqual([]);
  });
});
