/**
 * Store roles end to end, on a real gateway with a real API key: a consumer whose role exists only
 * in the store is refused, then allowed once `rampart roles set` defines it, then refused again
 * after `rampart roles delete`. The admin API guards the roles: admin role only for writes, no
 * widening of a config role, precise problems for malformed input, an audit event per change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/core/events.js';
import { call, runCli, startGateway, TEST_LISTENERS, type TestGateway } from '../helpers/gateway.js';
import { adminCall, TEST_ADMIN_TOKEN } from '../helpers/keys.js';

const config = `${TEST_LISTENERS}
store: "sqlite:.rampart/rampart.db"
authorization:
  roles:
    user: [pets:read]
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - { type: api_key }
      - type: authorize
        rules:
          - { methods: [GET, HEAD], permissions: [pets:read] }
          - { methods: [POST], permissions: [pets:write] }
`;

describe('store roles through the admin API and the CLI', () => {
  let gw: TestGateway;
  let clerkKey: string;
  let userKey: string;
  let operatorToken: string;
  const events: SecurityEvent[] = [];
  const cli = (...args: string[]) => runCli(['roles', ...args, '--admin-url', gw.admin], { env: { RAMPART_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
  const pets = (key: string, method = 'GET') =>
    call(`${gw.https}/pets`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"name":"rex"}' } : {}) });

  beforeAll(async () => {
    process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
    try {
      gw = await startGateway(config);
    } finally {
      delete process.env.RAMPART_ADMIN_TOKEN;
    }
    const services = gw.gateway.services as { emit: (e: SecurityEvent) => void };
    const original = services.emit;
    services.emit = (e) => (events.push(e), original(e));
    for (const [name, roles] of [['clerk', ['pets-clerk']], ['plain', ['user']]] as const) {
      expect((await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name, roles })).status).toBe(201);
    }
    clerkKey = (await adminCall(gw.admin, 'POST', '/admin/v1/keys', { consumer: 'clerk' })).json<{ key: string }>().key;
    userKey = (await adminCall(gw.admin, 'POST', '/admin/v1/keys', { consumer: 'plain' })).json<{ key: string }>().key;
    operatorToken = (await adminCall(gw.admin, 'POST', '/admin/v1/admin-tokens', { name: 'ops', role: 'operator' })).json<{ token: string }>().token;
  });
  afterAll(() => gw.stop());

  it('a role only the store defines: refused before `roles set`, allowed after, refused again after `roles delete`', async () => {
    expect((await pets(clerkKey)).status).toBe(403);
    const set = await cli('set', 'pets-clerk', '--permissions', 'pets:read,pets:write', '--json');
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ name: 'pets-clerk', permissions: ['pets:read', 'pets:write'], source: 'store' });
    expect((await pets(clerkKey)).status).toBe(200);
    expect((await pets(clerkKey, 'POST')).status).not.toBe(403);
    // `policy explain` against the running gateway sees the store role too.
    const explained = await runCli(['policy', 'explain', '--consumer', 'clerk', '--method', 'POST', '--path', '/pets', '--config', gw.configFile, '--admin-url', gw.admin, '--json'], {
      env: { RAMPART_ADMIN_TOKEN: TEST_ADMIN_TOKEN },
    });
    expect(explained.code, explained.stderr).toBe(0);
    expect(JSON.parse(explained.stdout)).toMatchObject({ decision: 'allow', grants: ['pets:read', 'pets:write'] });

    const got = await cli('get', 'pets-clerk');
    expect(got.stdout).toMatch(/pets-clerk\s+store\s+pets:read,pets:write/);
    const list = await cli('list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ name: 'pets-clerk', source: 'store' }),
      { name: 'user', permissions: ['pets:read'], source: 'config' },
    ]);

    // Narrowing takes effect at once too.
    expect((await cli('set', 'pets-clerk', '--permissions', 'pets:read')).code).toBe(0);
    expect((await pets(clerkKey, 'POST')).status).toBe(403);
    expect((await pets(clerkKey)).status).toBe(200);

    expect((await cli('delete', 'pets-clerk')).code).toBe(0);
    expect((await pets(clerkKey)).status).toBe(403);
    const gone = await cli('get', 'pets-clerk');
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('RAMPART_ADMIN_NOT_FOUND');

    const actions = events.filter((e) => e.type === 'admin.change').map((e) => e.data?.action);
    expect(actions).toEqual(expect.arrayContaining(['role.create', 'role.update', 'role.delete']));
    expect(events.find((e) => e.data?.action === 'role.create')?.data).toMatchObject({ actorRole: 'admin', target: { role: 'pets-clerk', permissions: ['pets:read', 'pets:write'] } });
  });

  it('a config role cannot be widened, replaced or deleted through the admin API (409); its holders keep exactly the config grants', async () => {
    const widen = await adminCall(gw.admin, 'PUT', '/admin/v1/roles/user', { permissions: ['*'] });
    expect(widen.status).toBe(409);
    expect(widen.json().code).toBe('RAMPART_ADMIN_CONFLICT');
    expect((await adminCall(gw.admin, 'DELETE', '/admin/v1/roles/user')).status).toBe(409);
    expect((await pets(userKey, 'POST')).status).toBe(403);
    expect((await pets(userKey)).status).toBe(200);
    expect((await adminCall(gw.admin, 'GET', '/admin/v1/roles/user')).json()).toEqual({ name: 'user', permissions: ['pets:read'], source: 'config' });
  });

  it('a store role written behind the API (another process, old data) under a config name is shadowed: the config wins', async () => {
    await gw.gateway.services.store.putRole({ name: 'user', permissions: ['*'], createdAt: 1, updatedAt: 1 });
    await gw.gateway.services.roles!.poll();
    expect((await pets(userKey, 'POST')).status).toBe(403);
    const list = (await adminCall(gw.admin, 'GET', '/admin/v1/roles')).json<Record<string, unknown>[]>();
    expect(list.filter((r) => r.name === 'user')).toEqual([
      { name: 'user', permissions: ['pets:read'], source: 'config' },
      expect.objectContaining({ name: 'user', source: 'store', shadowedByConfig: true }),
    ]);
    await gw.gateway.services.store.deleteRole('user');
  });

  it('writes need the admin role: an operator token reads but cannot set or delete (403)', async () => {
    const put = await adminCall(gw.admin, 'PUT', '/admin/v1/roles/sneaky', { permissions: ['*'] }, operatorToken);
    expect(put.status).toBe(403);
    expect((await adminCall(gw.admin, 'GET', '/admin/v1/roles/sneaky')).status).toBe(404);
    expect((await adminCall(gw.admin, 'DELETE', '/admin/v1/roles/sneaky', undefined, operatorToken)).status).toBe(403);
    expect((await adminCall(gw.admin, 'GET', '/admin/v1/roles', undefined, operatorToken)).status).toBe(200);
    expect((await adminCall(gw.admin, 'PUT', '/admin/v1/roles/sneaky', { permissions: ['*'] }, 'wrong-token-0123456789abcdefghijklmnop')).status).toBe(401);
  });

  it('malformed names and permissions get precise 400 problems; unknown roles 404; nothing is stored', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['bad%20name', { permissions: [] }, /role name/],
      [`${'x'.repeat(65)}`, { permissions: [] }, /role name/],
      ['ok', { permissions: ['pets:*:read'] }, /permissions\[0\]/],
      ['ok', { permissions: ['pets:read', 'pets:read'] }, /repeat/],
      ['ok', { permissions: 'pets:read' }, /permissions/],
      ['ok', { permissions: [], extra: 1 }, /extra/],
      ['ok', {}, /permissions/],
    ];
    for (const [name, body, detail] of cases) {
      const res = await adminCall(gw.admin, 'PUT', `/admin/v1/roles/${name}`, body);
      expect(res.status, `${name} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json()).toMatchObject({ code: 'RAMPART_ADMIN_INVALID_INPUT', detail: expect.stringMatching(detail) });
    }
    expect((await adminCall(gw.admin, 'PUT', '/admin/v1/roles/ok', '{not json')).json().code).toBe('RAMPART_BAD_REQUEST');
    expect((await adminCall(gw.admin, 'GET', '/admin/v1/roles/ok')).status).toBe(404);
    const del = await adminCall(gw.admin, 'DELETE', '/admin/v1/roles/ok');
    expect(del.status).toBe(404);
    expect(del.json().code).toBe('RAMPART_ADMIN_NOT_FOUND');
    expect(await gw.gateway.services.store.listRoles()).toEqual([]);
  });

  it('the CLI refuses bad usage with exit code 2 and a clear message', async () => {
    const noPermissions = await cli('set', 'x');
    expect(noPermissions.code).toBe(2);
    expect(noPermissions.stderr).toContain('--permissions');
    expect((await cli('get')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    const bad = await cli('set', 'x', '--permissions', 'a b');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('RAMPART_ADMIN_INVALID_INPUT');
  });
});
