/**
 * The admin API for consumers, keys and admin tokens: happy paths, precise problems for bad input,
 * roles, failed-login rate limiting, audit events, and the generated OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/core/events.js';
import { call, startGateway, TEST_LISTENERS, type TestGateway } from '../helpers/gateway.js';
import { adminCall, TEST_ADMIN_TOKEN } from '../helpers/keys.js';

describe('admin API', () => {
  let gw: TestGateway;
  const events: SecurityEvent[] = [];
  beforeAll(async () => {
    process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
    gw = await startGateway(`${TEST_LISTENERS}\nupstreams: {}\nroutes: []\n`);
    delete process.env.RAMPART_ADMIN_TOKEN;
    // Capture what the audit log would persist.
    const services = gw.gateway.services as { emit: (e: SecurityEvent) => void };
    const original = services.emit;
    services.emit = (e) => (events.push(e), original(e));
  });
  afterAll(() => gw.stop());

  it('creates, lists, gets, patches, suspends and resumes consumers', async () => {
    const created = await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'shop', roles: ['reader'], scopes: ['pets:read'], tenant: 'acme', metadata: { team: 'web' } });
    expect(created.status).toBe(201);
    const c = created.json<{ id: string; name: string; status: string }>();
    expect(c).toMatchObject({ name: 'shop', status: 'active', roles: ['reader'], tenant: 'acme' });
    expect(created.headers.location).toBe(`/admin/v1/consumers/${c.id}`);
    expect((await adminCall(gw.admin, 'GET', '/admin/v1/consumers/shop')).json()).toMatchObject({ id: c.id });
    expect((await adminCall(gw.admin, 'GET', `/admin/v1/consumers/${c.id}`)).json()).toMatchObject({ name: 'shop' });
    expect((await adminCall(gw.admin, 'GET', '/admin/v1/consumers')).json<unknown[]>().length).toBeGreaterThan(0);
    expect((await adminCall(gw.admin, 'PATCH', '/admin/v1/consumers/shop', { scopes: ['pets:read', 'pets:write'] })).json()).toMatchObject({ scopes: ['pets:read', 'pets:write'] });
    expect((await adminCall(gw.admin, 'POST', '/admin/v1/consumers/shop/suspend')).json()).toMatchObject({ status: 'suspended' });
    expect((await adminCall(gw.admin, 'POST', '/admin/v1/consumers/shop/resume')).json()).toMatchObject({ status: 'active' });
    const actions = events.filter((e) => e.type === 'admin.change').map((e) => e.data?.action);
    expect(actions).toEqual(expect.arrayContaining(['consumer.create', 'consumer.update', 'consumer.suspend', 'consumer.resume']));
    expect(events.find((e) => e.type === 'admin.change')?.data).toMatchObject({ actor: 'env:RAMPART_ADMIN_TOKEN', actorRole: 'admin' });
  });

  it('creates keys (shown once), lists and gets them without the key or its hash, rotates and revokes', async () => {
    await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'keyed', scopes: ['a', 'b'] });
    const created = await adminCall(gw.admin, 'POST', '/admin/v1/keys', { consumer: 'keyed', scopes: ['a'], expires: '30d' });
    expect(created.status).toBe(201);
    const k = created.json<{ id: string; key: string; prefix: string; expiresAt: string }>();
    expect(k.key.startsWith(k.prefix)).toBe(true);
    expect(Date.parse(k.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const got = await adminCall(gw.admin, 'GET', `/admin/v1/keys/${k.id}`);
    expect(got.json()).toMatchObject({ id: k.id, consumer: 'keyed', status: 'active', scopes: ['a'] });
    expect(got.text).not.toContain(k.key);
    expect(got.text).not.toContain('hash');
    const list = await adminCall(gw.admin, 'GET', '/admin/v1/keys?consumer=keyed');
    expect(list.json()).toEqual([expect.objectContaining({ id: k.id, prefix: k.prefix, consumer: 'keyed', status: 'active' })]);
    const rotated = await adminCall(gw.admin, 'POST', `/admin/v1/keys/${k.id}/rotate`, { grace: '1h' });
    expect(rotated.status).toBe(201);
    const r = rotated.json<{ id: string; key: string; rotatedFrom: string; previous: { replacedBy: string } }>();
    expect(r).toMatchObject({ rotatedFrom: k.id, previous: { replacedBy: r.id } });
    const revoked = await adminCall(gw.admin, 'POST', `/admin/v1/keys/${r.id}/revoke`);
    expect(revoked.json()).toMatchObject({ status: 'revoked' });
    const again = await adminCall(gw.admin, 'POST', `/admin/v1/keys/${r.id}/rotate`, {});
    expect(again.status).toBe(409);
    for (const e of events) expect(JSON.stringify(e)).not.toContain(k.key);
  });

  it.each([
    ['duplicate name', 'POST', '/admin/v1/consumers', { name: 'dup' }, 409, 'RAMPART_ADMIN_CONFLICT'],
    ['unknown consumer', 'GET', '/admin/v1/consumers/nobody', undefined, 404, 'RAMPART_ADMIN_NOT_FOUND'],
    ['unknown key', 'POST', '/admin/v1/keys/00000000-0000-0000-0000-000000000000/revoke', undefined, 404, 'RAMPART_ADMIN_NOT_FOUND'],
    ['key for unknown consumer', 'POST', '/admin/v1/keys', { consumer: 'nobody' }, 404, 'RAMPART_ADMIN_NOT_FOUND'],
    ['malformed JSON', 'POST', '/admin/v1/consumers', '{"name": ', 400, 'RAMPART_BAD_REQUEST'],
    ['wrong type', 'POST', '/admin/v1/consumers', { name: 'x', roles: 'admin' }, 400, 'RAMPART_ADMIN_INVALID_INPUT'],
    ['unknown field', 'POST', '/admin/v1/consumers', { name: 'x', isAdmin: true }, 400, 'RAMPART_ADMIN_INVALID_INPUT'],
    ['hostile name', 'POST', '/admin/v1/consumers', { name: '../../etc/passwd' }, 400, 'RAMPART_ADMIN_INVALID_INPUT'],
    ['missing name', 'POST', '/admin/v1/consumers', {}, 400, 'RAMPART_ADMIN_INVALID_INPUT'],
    ['bad duration', 'POST', '/admin/v1/keys', { consumer: 'dup', expires: 'forever' }, 400, 'RAMPART_ADMIN_INVALID_INPUT'],
    ['bad limit', 'GET', '/admin/v1/consumers?limit=-5', undefined, 400, 'RAMPART_ADMIN_INVALID_INPUT'],
    ['oversized body', 'POST', '/admin/v1/consumers', JSON.stringify({ name: 'x', metadata: { a: 'x'.repeat(70_000) } }), 413, 'RAMPART_BODY_TOO_LARGE'],
    ['unknown resource', 'GET', '/admin/v1/nothing', undefined, 404, 'RAMPART_ROUTE_NOT_FOUND'],
  ])('%s → %i problem', async (_name, method, path, body, status, code) => {
    if (code === 'RAMPART_ADMIN_CONFLICT') await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'dup' });
    const res = await adminCall(gw.admin, method as string, path as string, body);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const p = res.json();
    expect(p).toMatchObject({ status, code, type: `urn:rampart:error:${code}` });
    expect(res.text).not.toMatch(/at .*\.ts:\d+|SQLITE|sqlite|stack/);
  });

  it('missing or wrong admin token → 401 with a challenge; repeated failures → 429 with Retry-After', async () => {
    const none = await call(`${gw.admin}/admin/v1/consumers`);
    expect(none.status).toBe(401);
    expect(none.json().code).toBe('RAMPART_ADMIN_UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toContain('Bearer');
    let last = 0;
    for (let i = 0; i < 11; i++) last = (await adminCall(gw.admin, 'GET', '/admin/v1/consumers', undefined, `rk_admin_guess${i}`)).status;
    expect(last).toBe(429);
    const blocked = await adminCall(gw.admin, 'GET', '/admin/v1/consumers');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'admin.auth.failure')).toBe(true);
  });
});

describe('admin roles and tokens', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
    gw = await startGateway(`${TEST_LISTENERS}\nupstreams: {}\nroutes: []\n`);
    delete process.env.RAMPART_ADMIN_TOKEN;
  });
  afterAll(() => gw.stop());

  it('auditors read, operators write consumers but not admin tokens; revoked tokens stop working', async () => {
    const auditor = (await adminCall(gw.admin, 'POST', '/admin/v1/admin-tokens', { name: 'aud', role: 'auditor' })).json<{ token: string; id: string }>();
    const operator = (await adminCall(gw.admin, 'POST', '/admin/v1/admin-tokens', { name: 'ops', role: 'operator' })).json<{ token: string; id: string }>();
    expect(auditor.token).toMatch(/^rk_admin_/);
    expect((await adminCall(gw.admin, 'GET', '/admin/v1/consumers', undefined, auditor.token)).status).toBe(200);
    const denied = await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'x' }, auditor.token);
    expect(denied.status).toBe(403);
    expect(denied.json().code).toBe('RAMPART_ADMIN_FORBIDDEN');
    expect((await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'x' }, operator.token)).status).toBe(201);
    expect((await adminCall(gw.admin, 'POST', '/admin/v1/admin-tokens', { name: 'y', role: 'admin' }, operator.token)).status).toBe(403);
    const list = await adminCall(gw.admin, 'GET', '/admin/v1/admin-tokens');
    expect(list.text).not.toContain(operator.token);
    expect(list.text).not.toContain('hash');
    expect((await adminCall(gw.admin, 'POST', `/admin/v1/admin-tokens/${operator.id}/revoke`)).status).toBe(200);
    expect((await adminCall(gw.admin, 'GET', '/admin/v1/consumers', undefined, operator.token)).status).toBe(401);
  });

  it('serves its OpenAPI document (authenticated), generated from the routes', async () => {
    expect((await call(`${gw.admin}/admin/v1/openapi.json`)).status).toBe(401);
    const doc = (await adminCall(gw.admin, 'GET', '/admin/v1/openapi.json')).json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/admin/v1/consumers', '/admin/v1/keys/{id}/rotate', '/admin/v1/admin-tokens']));
    expect(doc.paths['/admin/v1/keys']?.post?.requestBody).toBeDefined();
  });
});
