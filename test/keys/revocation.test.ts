/**
 * Revocation across processes: two gateways on one store. With Redis configured the change arrives
 * by pub/sub (the store poll is set to a minute here, so only pub/sub can explain the speed);
 * without Redis the store poll carries it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call, startGateway, tempDir, TEST_LISTENERS, type TestGateway } from '../helpers/gateway.js';
import { adminCall, TEST_ADMIN_TOKEN } from '../helpers/keys.js';

function config(store: string, counters: string, pollMs: number, channel: string): string {
  return `${TEST_LISTENERS}
store: "${store}"
counters: "${counters}"
secrets: { pepper: "${'s'.repeat(40)}" }
keys: { revocationPollMs: ${pollMs}, revocationChannel: "${channel}" }
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages: [{ type: api_key }]
`;
}

async function pair(counters: string, pollMs: number): Promise<[TestGateway, TestGateway]> {
  const store = `sqlite:${join(tempDir(), 'shared.db')}`;
  const channel = `rampart-test:${randomBytes(6).toString('hex')}`;
  process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
  try {
    const a = await startGateway(config(store, counters, pollMs, channel));
    const b = await startGateway(config(store, counters, pollMs, channel));
    return [a, b];
  } finally {
    delete process.env.RAMPART_ADMIN_TOKEN;
  }
}

async function refusedWithin(gw: TestGateway, key: string, limitMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < limitMs * 3) {
    if ((await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${key}` } })).status === 401) return Date.now() - start;
  }
  return Infinity;
}

describe.each([
  ['Redis pub/sub', process.env.RAMPART_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', 60_000],
  ['store poll', 'memory', 300],
])('revocation reaches another gateway through %s', (_name, counters, pollMs) => {
  const gateways: TestGateway[] = [];
  afterAll(() => Promise.all(gateways.map((g) => g.stop())));

  it('within a second', async () => {
    const [a, b] = await pair(counters, pollMs);
    gateways.push(a, b);
    await adminCall(a.admin, 'POST', '/admin/v1/consumers', { name: 'app' });
    const k = (await adminCall(a.admin, 'POST', '/admin/v1/keys', { consumer: 'app' })).json<{ id: string; key: string }>();
    expect((await call(`${b.https}/pets`, { headers: { authorization: `Bearer ${k.key}` } })).status).toBe(200);
    await adminCall(a.admin, 'POST', `/admin/v1/keys/${k.id}/revoke`);
    expect(await refusedWithin(b, k.key, 1000)).toBeLessThan(1000);
  });
});
