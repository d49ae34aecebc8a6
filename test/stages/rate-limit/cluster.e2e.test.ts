/**
 * Exactness across processes: three real gateway processes share one Redis; requests sent
 * alternately through all of them are admitted exactly up to the limit, the rest get 429.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, spawnGateway, tempDir, TEST_LISTENERS } from '../../helpers/gateway.js';
import { startTestUpstream, type TestUpstream } from './upstream.js';

const REDIS = process.env.RAMPART_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
type Spawned = Awaited<ReturnType<typeof spawnGateway>>;

let up: TestUpstream;
const gateways: Spawned[] = [];

beforeAll(async () => {
  up = await startTestUpstream();
  const file = join(tempDir(), 'rampart.yaml');
  writeFileSync(
    file,
    `${TEST_LISTENERS}
counters: "${REDIS}?prefix=test:${randomUUID()}:"
log: { level: info, access: false }
upstreams:
  app: { url: "${up.url}" }
routes:
  - id: api
    path: /api/**
    upstream: app
    stages:
      - { type: rate-limit, name: cluster, by: [consumer], rate: { limit: 50, windowSeconds: 3600, burst: 49 } }
      - { type: rate-limit, name: quota, by: [route], quota: { limit: 40, period: day } }
`,
  );
  // one config, three processes (each with its own ports) on one Redis
  // started one after the other: three cold tsx compilations at once can exceed the start timeout on a busy machine
  for (let i = 0; i < 3; i++) gateways.push(await spawnGateway(file));
}, 90_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await up?.close();
});

describe('cluster-wide limits on Redis', () => {
  it('admits exactly the limit across three processes, concurrently and alternately', async () => {
    const N = 150;
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => call(`https://127.0.0.1:${gateways[i % 3]!.ports.https}/api/${i}`, { headers: { 'x-forwarded-for': '1.1.1.1' } })),
    );
    const admitted = results.filter((r) => r.status === 200);
    expect(results.filter((r) => r.status !== 200 && r.status !== 429).map((r) => r.text)).toEqual([]);
    const refused = results.filter((r) => r.status === 429);
    // the quota (40 per day for the route) is the tighter limit: exactly 40 pass, whoever served them
    expect(admitted).toHaveLength(40);
    expect(refused).toHaveLength(N - 40);
    for (const r of refused) {
      expect(r.json()).toMatchObject({ code: 'RAMPART_RATE_LIMITED', status: 429 });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.headers['ratelimit-policy']).toBe('"cluster";q=50;w=3600, "quota-day";q=40;w=86400');
      expect(r.headers['ratelimit']).toMatch(/^"cluster";r=\d+;t=\d+, "quota-day";r=0;t=\d+$/);
    }
    // refused requests consumed nothing from the smooth limit: 50 - 40 units are left
    const remaining = admitted.map((r) => Number(/"cluster";r=(\d+)/.exec(String(r.headers['ratelimit']))![1]));
    expect(Math.min(...remaining)).toBe(10);
    expect(new Set(remaining).size).toBe(40); // every admitted request saw a distinct count: one sequence
  });
});
