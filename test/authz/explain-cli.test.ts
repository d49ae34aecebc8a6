/** `rampart policy explain` as a real process: offline identities, and consumers read from a running gateway's admin API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, runCli, startGateway, TEST_LISTENERS, type TestGateway } from '../helpers/gateway.js';
import { adminCall, TEST_ADMIN_TOKEN } from '../helpers/keys.js';

const QUICK_START = join(ROOT, 'rampart.yaml');
const explain = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['policy', 'explain', '--config', QUICK_START, ...args], { env });

describe('rampart policy explain (offline)', () => {
  it('prints a denial with the rule id, exit 1', async () => {
    const r = await explain(['--consumer', 'alice', '--roles', 'user', '--tenant', 'acme', '--method', 'GET', '--path', '/users/bob']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('decision  DENY (403 RAMPART_FORBIDDEN)');
    expect(r.stdout).toContain('rule      routes.users.objects.own-profile');
  });

  it('prints an allow with the body and response rules, exit 0; --json', async () => {
    const r = await explain(['--consumer', 'alice', '--roles', 'user', '--method', 'patch', '--path', '/users/alice', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'allow', rule: 'routes.users.rules.write', bodyRules: ['routes.users.properties.role-read-only'], hiddenFields: ['internalNotes'] });
  });

  it('judges path tricks like the gateway', async () => {
    const dots = await explain(['--consumer', 'alice', '--roles', 'user', '--method', 'GET', '--path', '/users/alice/../bob', '--json']);
    expect(JSON.parse(dots.stdout)).toMatchObject({ decision: 'deny', status: 400, code: 'RAMPART_BAD_PATH', rule: 'path-guard' });
    const encoded = await explain(['--consumer', 'alice', '--roles', 'user', '--method', 'GET', '--path', '/users/%62%6f%62', '--json']);
    expect(JSON.parse(encoded.stdout)).toMatchObject({ decision: 'deny', rule: 'routes.users.objects.own-profile' });
    const fn = await explain(['--consumer', 'alice', '--roles', 'user', '--method', 'DELETE', '--path', '/pets/1', '--json']);
    expect(JSON.parse(fn.stdout)).toMatchObject({ decision: 'deny', rule: 'adminOnly.delete' });
  });

  it('bad usage exits 2 with a clear message', async () => {
    const r = await explain(['--consumer', 'alice', '--roles', 'user', '--method', 'BREW', '--path', '/users/alice']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--method must be one of');
    expect((await runCli(['policy', 'explain', '--method', 'GET'])).code).toBe(2);
  });
});

describe('rampart policy explain (consumer from the admin API)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
    gw = await startGateway(`${TEST_LISTENERS}\nupstreams: { demo: { url: "builtin:pets" } }\nroutes: []\n`);
    delete process.env.RAMPART_ADMIN_TOKEN;
    expect((await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'sam', roles: ['support'], tenant: 'rampart' })).status).toBe(201);
  });
  afterAll(() => gw.stop());

  it('reads roles and tenant of the consumer', async () => {
    const r = await explain(['--consumer', 'sam', '--method', 'GET', '--path', '/users/bob', '--admin-url', gw.admin, '--json'], { RAMPART_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'allow', identity: { consumer: 'sam', roles: ['support'], tenant: 'rampart' }, hiddenFields: [] });
  });

  it('an unknown consumer is bad input (exit 2)', async () => {
    const r = await explain(['--consumer', 'nobody', '--method', 'GET', '--path', '/users/bob', '--admin-url', gw.admin], { RAMPART_ADMIN_TOKEN: TEST_ADMIN_TOKEN });
    expect(r.code).toBe(2);
  });
});
