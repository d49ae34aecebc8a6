/**
 * `rampart start --workers 2` as real processes: one port served by both workers, `/metrics` on the
 * admin worker counting the traffic of both, a detector block made in one worker refused by both
 * (and by a worker restarted later), a worker that cannot start retried with backoff, and the
 * refusal to start with per-process (memory) counters under a rate-limit stage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, Client, request } from 'undici';
import { call, runCli, spawnGateway, tempDir, TEST_LISTENERS, type SimpleResponse } from '../helpers/gateway.js';
import { TEST_ADMIN_TOKEN } from '../helpers/keys.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const REDIS = process.env.RAMPART_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let upstream: TestUpstream;
let gw: Awaited<ReturnType<typeof spawnGateway>>;
let dir: string;
let base: string;
let admin: string;

/** The test config with its counters line: the started gateway uses Redis, its refused twin memory. */
function config(counters: string): string {
  return `${TEST_LISTENERS.replace('https: { port: 0, host: 127.0.0.1 }', 'https: { enabled: false }').replace('http: { port: 0, host: 127.0.0.1 }', 'http: { port: 0, host: 127.0.0.1, mode: serve }')}
counters: "${counters}"
trustedProxies: [127.0.0.1/32]
observe:
  detectors:
    enumeration: { windowSeconds: 60, deniedOrMissing: 2, blockSeconds: 60 }
upstreams: { up: { url: ${upstream.url} } }
routes:
  - { id: api, path: /api/**, upstream: up, stages: [{ type: rate-limit, by: [ip], rate: { limit: 1000, windowSeconds: 1, burst: 1000 } }] }
  - { id: metered, path: /metered/**, upstream: up }
`;
}

/** Pids of the workers whose access log lines match `pattern` (one line each). */
function pids(pattern: RegExp): Set<string> {
  return new Set(
    gw
      .logs()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"') && pattern.test(l))
      .map((l) => /"pid":(\d+)/.exec(l)![1]!),
  );
}

/** The workers' start lines so far, oldest first. */
function started(): { pid: number; ports: { http: number; admin?: number } }[] {
  return gw
    .logs()
    .split('\n')
    .filter((l) => l.includes('rampart gateway started'))
    .map((l) => JSON.parse(l) as { pid: number; ports: { http: number; admin?: number } });
}

async function waitForStarts(count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (started().length < count) {
    if (Date.now() > deadline) throw new Error(`${count} worker starts expected:\n${gw.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `n` concurrent requests on fresh connections, which the primary hands to the workers in turn. */
async function burst(n: number, path: (i: number) => string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }[]> {
  const agent = new Agent();
  try {
    return await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await request(`${base}${path(i)}`, { headers, dispatcher: agent });
        return { status: res.statusCode, body: await res.body.text() };
      }),
    );
  } finally {
    await agent.close();
  }
}

const metrics = (): Promise<SimpleResponse> => call(`${admin}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
const attacker = { 'x-forwarded-for': '203.0.113.9' };

beforeAll(async () => {
  upstream = await startUpstream();
  dir = tempDir();
  writeFileSync(join(dir, 'rampart.yaml'), config(`${REDIS}?prefix=test:${randomUUID()}:`));
  gw = await spawnGateway(join(dir, 'rampart.yaml'), { cwd: dir, args: ['--workers', '2'], env: { RAMPART_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
  // spawnGateway returns on the first worker's line; the admin port is in the admin worker's
  await waitForStarts(2);
  base = `http://127.0.0.1:${started()[0]!.ports.http}`;
  admin = `http://127.0.0.1:${started().find((w) => w.ports.admin !== undefined)!.ports.admin}`;
}, 90_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

describe('rampart start --workers', () => {
  it('serves one port from several processes (Redis counters with a rate-limit stage start)', async () => {
    expect((await burst(40, (i) => `/api/${i}`)).map((r) => r.status)).toEqual(Array(40).fill(200));
    await expect.poll(() => pids(/"route":"api"/).size, { timeout: 5000 }).toBe(2);
  });

  it('/metrics counts the requests of every worker, not only the admin worker’s', async () => {
    let sent = 0;
    while (pids(/"route":"metered"/).size < 2 && sent < 400) {
      expect((await burst(40, () => `/metered/${sent++}`)).map((r) => r.status)).toEqual(Array(40).fill(200));
      await new Promise((resolve) => setTimeout(resolve, 200)); // access lines reach stdout in batches
    }
    expect(pids(/"route":"metered"/).size).toBe(2);
    const res = await metrics();
    expect(res.status).toBe(200);
    expect(res.text).toContain(`rampart_requests_total{route="metered",method="GET",status_class="2xx"} ${sent}\n`);
  });

  it('a detector block made in one worker is refused by every worker', async () => {
    // one connection, so one worker sees the 404s and blocks
    const one = new Client(base);
    let status = 0;
    for (let i = 0; i < 10 && status !== 403; i++) {
      const res = await request(`${base}/nowhere/${i}`, { headers: attacker, dispatcher: one });
      await res.body.dump();
      status = res.statusCode;
    }
    await one.close();
    expect(status).toBe(403);
    await expect.poll(() => pids(/"path":"\/nowhere\/\d+"/).size, { timeout: 5000 }).toBe(1);

    const refused = await burst(40, (i) => `/api/after-${i}`, attacker);
    expect(refused.map((r) => r.status)).toEqual(Array(40).fill(403));
    expect(JSON.parse(refused[0]!.body)).toMatchObject({ code: 'RAMPART_IP_DENIED' });
    await expect.poll(() => pids(/"path":"\/api\/after-\d+"[^\n]*"status":403/).size, { timeout: 5000 }).toBe(2);
    // other clients are served
    expect((await burst(4, (i) => `/api/bystander-${i}`)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('a restarted worker enforces the blocks in force, and the admin API comes back with it', async () => {
    const before = started();
    const adminWorker = before.find((w) => w.ports.admin !== undefined)!;
    process.kill(adminWorker.pid, 'SIGKILL');
    await waitForStarts(before.length + 1);
    const replacement = started().at(-1)!;
    expect(replacement.ports.admin).toBeGreaterThan(0);
    admin = `http://127.0.0.1:${replacement.ports.admin}`;

    const refused = await burst(40, (i) => `/api/restarted-${i}`, attacker);
    expect(refused.map((r) => r.status)).toEqual(Array(40).fill(403));
    await expect.poll(() => pids(/"path":"\/api\/restarted-\d+"[^\n]*"status":403/), { timeout: 5000 }).toContain(String(replacement.pid));
    expect((await metrics()).status).toBe(200);
  });

  it('refuses --workers 2 with memory counters and a rate-limit stage, naming the fix', async () => {
    const twin = join(tempDir(), 'rampart.yaml');
    writeFileSync(twin, config('memory'));
    const result = await runCli(['start', '--config', twin, '--workers', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration[\s\S]*counters: memory counts rate limits and lockouts in each process[\s\S]*routes\[0\] api stages\[0\] \(rate-limit\)[\s\S]*Use counters: redis:\/\/… \(one count shared by every process\), or run one process \(no --workers\)/);
    expect(result.stdout).not.toContain('rampart gateway started');
  });

  it('a worker that cannot start exits and is retried with backoff until it can', async () => {
    const file = join(dir, 'rampart.yaml');
    const good = config(`${REDIS}?prefix=test:${randomUUID()}:`);
    writeFileSync(file, 'routes: [ { id: broken');
    const before = started();
    process.kill(before.find((w) => w.ports.admin === undefined)!.pid, 'SIGKILL');
    // The replacement fails on the broken file and exits (it does not linger); the next waits longer.
    await expect.poll(() => gw.logs().match(/rampart worker \d+: /g)?.length ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    // The primary logs a worker's exit after the worker's own error line: wait for it, do not race it.
    await expect.poll(() => gw.logs(), { timeout: 15_000 }).toMatch(/starting a new one in 500 ms[\s\S]*starting a new one in 1000 ms/);
    writeFileSync(file, good);
    await waitForStarts(before.length + 1);
    expect((await burst(8, (i) => `/api/recovered-${i}`)).map((r) => r.status)).toEqual(Array(8).fill(200));
  });

  it('stops cleanly', async () => {
    expect(await gw.stop()).toBe(0);
  });
});
