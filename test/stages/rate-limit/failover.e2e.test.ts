/**
 * Redis goes away mid-test (a Redis this test started itself on its own port): fail-closed routes
 * answer 503 with Retry-After, fail-open routes limit locally at rate / nodes; the outage is logged
 * and raised as an event; when Redis returns, decisions go back to it on their own (a fresh Redis
 * knows no script: the store answers NOSCRIPT by loading the decide script with EVAL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../src/server/gateway.js';
import { call, tempDir, TEST_LISTENERS } from '../../helpers/gateway.js';
import { startTestUpstream, type TestUpstream } from './upstream.js';

let port: number;
let redis: ChildProcess | undefined;
let gateway: Gateway;
let up: TestUpstream;
let base: string;
const logLines: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await until(async () => (await ping()) === true);
}

async function stopRedis(): Promise<void> {
  const r = redis;
  redis = undefined;
  if (r === undefined || r.exitCode !== null) return;
  await new Promise((resolve) => {
    r.once('exit', resolve);
    r.kill('SIGKILL');
  });
}

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
  });
}

/** Polls a condition (reconnects and process starts are events we wait for, not sleeps). */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  up = await startTestUpstream();
  const dir = tempDir();
  const file = join(dir, 'rampart.yaml');
  writeFileSync(
    file,
    `${TEST_LISTENERS}
counters: "redis://127.0.0.1:${port}?prefix=failover:&timeoutMs=300"
upstreams:
  app: { url: "${up.url}" }
routes:
  - id: closed
    path: /closed/**
    upstream: app
    stages: [{ type: rate-limit, by: [global], rate: { limit: 1000, windowSeconds: 1, burst: 100 } }]
  - id: open
    path: /open/**
    upstream: app
    stages: [{ type: rate-limit, by: [global], rate: { limit: 6, windowSeconds: 3600, burst: 5 }, failMode: fail-open, nodes: 3 }]
`,
  );
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  gateway = await Gateway.start({ configFile: file, watch: false, logger: pino({ level: 'info' }, sink) });
  base = `https://127.0.0.1:${gateway.ports.https}`;
}, 30_000);

afterAll(async () => {
  await gateway?.stop();
  await up?.close();
  await stopRedis();
});

describe('Redis outage', () => {
  it('uses Redis while it is up', async () => {
    expect((await call(`${base}/closed/a`)).status).toBe(200);
    expect((await call(`${base}/open/a`)).status).toBe(200);
    expect(gateway.services.counters.health()).toMatchObject({ backend: 'redis', available: true });
  });

  it('fail-closed answers 503 with Retry-After; fail-open limits locally at rate / nodes', async () => {
    await stopRedis();
    await until(() => !gateway.services.counters.health().available);
    const closed = await call(`${base}/closed/b`);
    expect(closed.status).toBe(503);
    expect(closed.headers['retry-after']).toBe('5');
    expect(closed.json()).toMatchObject({ code: 'RAMPART_RATE_LIMIT_UNAVAILABLE' });
    // 6 per hour with a burst of 5, on 3 nodes: this node alone admits 2 at once (burst 5/3 → 1, + 1)
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(`${base}/open/${i}`)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const events = logLines.map((l) => JSON.parse(l) as { event?: { type: string } }).map((l) => l.event?.type);
    expect(events).toContain('counters.unavailable');
    expect(gateway.services.counters.health().failures).toBeGreaterThan(0);
  });

  it('returns to Redis on its own when it is back', async () => {
    await startRedis();
    await until(() => gateway.services.counters.health().available);
    expect((await call(`${base}/closed/c`)).status).toBe(200);
    // a fresh Redis (no persistence): the open route's cluster-wide count starts again from Redis
    const res = await call(`${base}/open/z`);
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit']).toMatch(/^"open-global";r=5;/);
    const events = logLines.map((l) => JSON.parse(l) as { event?: { type: string } }).map((l) => l.event?.type);
    expect(events).toContain('counters.recovered');
  });
});
