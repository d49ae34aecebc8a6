/**
 * Authorization end to end: a real gateway in front of the built-in demo API, two consumers of
 * different tenants and roles with real API keys, and an admin-bypass consumer. Path tricks go over
 * a raw socket so that no client normalises them first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startGateway, TEST_LISTENERS, type TestGateway } from '../helpers/gateway.js';
import { adminCall, TEST_ADMIN_TOKEN } from '../helpers/keys.js';
import { rawRequest, statusOf } from '../helpers/raw.js';

const YAML = `${TEST_LISTENERS}
upstreams:
  demo: { url: "builtin:pets" }
authorization:
  roles:
    user: [users:read, users:write, pets:read]
    support: ["users:*", pets:read]
    admin: ["*"]
  adminOnly:
    - { id: delete, methods: [DELETE] }
routes:
  - id: users
    path: /users/{userId}
    methods: [GET, PATCH, DELETE]
    upstream: demo
    stages:
      - { type: api_key }
      - type: authorize
        rules:
          - { id: read, methods: [GET], permissions: [users:read] }
          - { id: write, methods: [PATCH], permissions: [users:write] }
        objects:
          - { id: own-profile, in: path, name: userId, equals: identity.consumer, bypass: users:any }
        properties:
          - { id: role-read-only, fields: [role, tenant], write: deny, bypass: admin }
          - { id: internal-notes, fields: [internalNotes], read: deny, bypass: users:internal }
  - id: tenant-users
    path: /users
    methods: [GET]
    upstream: demo
    stages:
      - { type: api_key }
      - type: authorize
        anyAuthenticated: true
        objects: [{ id: own-tenant, in: query, name: tenant, equals: identity.tenant, bypass: users:any }]
  - id: pets
    path: /pets/**
    upstream: demo
    stages:
      - { type: api_key }
`;

let gw: TestGateway;
const keys: Record<string, string> = {};
const as = (who: string, init: { method?: string; body?: string } = {}) => ({
  method: init.method ?? 'GET',
  headers: { authorization: `Bearer ${keys[who]}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(init.body === undefined ? {} : { body: init.body }),
});
const raw = (who: string, target: string) =>
  rawRequest(gw.https, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${keys[who]}\r\nConnection: close\r\n\r\n`);

beforeAll(async () => {
  process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
  gw = await startGateway(YAML);
  delete process.env.RAMPART_ADMIN_TOKEN;
  for (const [name, roles, tenant] of [['alice', ['user'], 'acme'], ['bob', ['user'], 'globex'], ['sam', ['support'], 'rampart']] as const) {
    expect((await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name, roles, tenant })).status).toBe(201);
    const created = await adminCall(gw.admin, 'POST', '/admin/v1/keys', { consumer: name });
    expect(created.status).toBe(201);
    keys[name] = created.json<{ key: string }>().key;
  }
});
afterAll(() => gw.stop());

describe('object-level authorization against the demo API', () => {
  it('another user’s object → 403 that reveals nothing; the owner → 200; the bypass holder → 200', async () => {
    const denied = await call(`${gw.https}/users/bob`, as('alice'));
    expect(denied.status).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'RAMPART_FORBIDDEN', detail: 'You are not allowed to perform this action.' });
    expect(denied.text).not.toMatch(/own-profile|userId|bob@|globex/);
    const own = await call(`${gw.https}/users/bob`, as('bob'));
    expect(own.status).toBe(200);
    expect(own.json()).toMatchObject({ id: 'bob', tenant: 'globex' });
    expect((await call(`${gw.https}/users/bob`, as('sam'))).status).toBe(200);
  });

  it('path tricks never reach another user’s object', async () => {
    const tricks = ['/users/alice/../bob', '/users/alice/%2e%2e/bob', '/users/%62%6f%62', '/users/bob/', '/users/bob;x=1', '/users/alice;/bob', '/users/Bob', '/USERS/bob', '//users/bob', '/users//bob', '/users/alice%2fbob', '/users/bob%00'];
    for (const target of tricks) {
      const status = statusOf(await raw('alice', target));
      expect([400, 403, 404, 405], target).toContain(status);
    }
    // The same encodings are fine when they name the caller's own object.
    expect(statusOf(await raw('alice', '/users/%61%6c%69%63%65'))).toBe(200);
  });

  it('binds the tenant query parameter exactly and refuses ambiguous repeats', async () => {
    expect((await call(`${gw.https}/users?tenant=acme`, as('alice'))).status).toBe(200);
    expect((await call(`${gw.https}/users?tenant=globex`, as('alice'))).status).toBe(403);
    expect((await call(`${gw.https}/users?tenant=ACME`, as('alice'))).status).toBe(403);
    expect((await call(`${gw.https}/users?tenant=acme&tenant=globex`, as('alice'))).status).toBe(403);
    expect((await call(`${gw.https}/users`, as('alice'))).status).toBe(403);
    expect((await call(`${gw.https}/users?tenant=globex`, as('sam'))).status).toBe(200);
  });
});

describe('property-level authorization', () => {
  it('refuses mass assignment of the role; the same update without it goes through', async () => {
    const attack = await call(`${gw.https}/users/alice`, as('alice', { method: 'PATCH', body: '{"name":"Alice","role":"admin"}' }));
    expect(attack.status).toBe(403);
    const dup = await call(`${gw.https}/users/alice`, as('alice', { method: 'PATCH', body: '{"name":"Alice","Role":"admin"}' }));
    expect(dup.status).toBe(403);
    const ok = await call(`${gw.https}/users/alice`, as('alice', { method: 'PATCH', body: '{"name":"Alice B."}' }));
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'Alice B.', role: 'user' });
  });

  it('strips the forbidden response field for the owner, keeps it for the bypass holder', async () => {
    const own = await call(`${gw.https}/users/alice`, as('alice'));
    expect(own.status).toBe(200);
    expect(own.json()).not.toHaveProperty('internalNotes');
    expect(Number(own.headers['content-length'])).toBe(Buffer.byteLength(own.text));
    expect((await call(`${gw.https}/users/alice`, as('sam'))).json()).toHaveProperty('internalNotes');
  });
});

describe('function-level authorization and deny by default', () => {
  it('DELETE is admin-only on every route; method override headers are refused', async () => {
    expect((await call(`${gw.https}/users/alice`, as('alice', { method: 'DELETE' }))).status).toBe(403);
    const override = await call(`${gw.https}/users/alice`, { ...as('alice'), headers: { ...as('alice').headers, 'x-http-method-override': 'DELETE' } });
    expect(override.status).toBe(400);
    expect(override.json().code).toBe('RAMPART_METHOD_OVERRIDE');
  });

  it('a route that authenticates without an authorize stage refuses everyone', async () => {
    const res = await call(`${gw.https}/pets`, as('sam'));
    expect(res.status).toBe(403);
    expect(res.json().code).toBe('RAMPART_FORBIDDEN');
  });
});
