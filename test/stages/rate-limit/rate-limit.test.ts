import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startGateway, TEST_LISTENERS, type TestGateway } from '../../helpers/gateway.js';
import { startTestUpstream, type TestUpstream } from './upstream.js';
import { phaseOf } from '../../../src/stages/rate-limit/rate-limit.js';
import { clientNetwork } from '../../../src/stages/rate-limit/partition.js';
import { parseConfigText } from '../../../src/config/load.js';

let gw: TestGateway;
let up: TestUpstream;

beforeAll(async () => {
  up = await startTestUpstream();
  gw = await startGateway(`${TEST_LISTENERS}
counters: memory
upstreams:
  app: { url: "${up.url}" }
routes:
  - id: smooth
    path: /smooth/**
    upstream: app
    stages:
      - { type: rate-limit, by: [ip], rate: { limit: 60, windowSeconds: 60, burst: 2 } }
  - id: layered
    path: /layered/**
    upstream: app
    stages:
      - { type: rate-limit, name: per-ip, by: [ip], rate: { limit: 1000, windowSeconds: 1, burst: 100 } }
      - { type: rate-limit, name: daily, by: [consumer, route], quota: { limit: 3, period: day } }
  - id: slow
    path: /slow/**
    upstream: app
    stages:
      - { type: rate-limit, by: [global], concurrency: { limit: 2 } }
`);
});

afterAll(async () => {
  await gw?.stop();
  await up?.close();
});

describe('rate-limit stage', () => {
  it('admits burst + 1, then answers 429 with Retry-After and RateLimit headers', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await call(`${gw.https}/smooth/a`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers['content-type']).toBe('application/problem+json');
    expect(last!.json()).toMatchObject({ status: 429, code: 'RAMPART_RATE_LIMITED' });
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(last!.headers['ratelimit-policy']).toBe('"smooth-ip";q=60;w=60');
    expect(last!.headers['ratelimit']).toMatch(/^"smooth-ip";r=0;t=\d+$/);
  });

  it('sends the headers on admitted responses too', async () => {
    const res = await call(`${gw.https}/layered/x`);
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit-policy']).toBe('"per-ip";q=1000;w=1, "daily-day";q=3;w=86400');
    expect(res.headers['ratelimit']).toMatch(/^"per-ip";r=100;t=\d+, "daily-day";r=2;t=\d+$/);
  });

  it('enforces a daily quota per consumer and route (anonymous: per client address)', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(`${gw.https}/layered/y`)).status);
    expect(statuses).toEqual([200, 200, 429]); // one was used by the previous test
    const refused = await call(`${gw.https}/layered/y`);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(86_400);
  });

  it('limits requests in flight and frees the slot when a response completes', async () => {
    const first = call(`${gw.https}/slow/1`);
    const second = call(`${gw.https}/slow/2`);
    while (up.waiting() < 2) await new Promise((r) => setTimeout(r, 5));
    const third = await call(`${gw.https}/slow/3`);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    up.releaseSlow();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    const fourth = call(`${gw.https}/slow/4`);
    while (up.waiting() < 1) await new Promise((r) => setTimeout(r, 5));
    up.releaseSlow();
    expect((await fourth).status).toBe(200);
  });
});

describe('rate-limit options', () => {
  it('runs IP-scoped limits in the guard phase and identity-scoped ones in the limit phase', () => {
    expect(phaseOf(['ip'])).toBe('guard');
    expect(phaseOf(['ip', 'route'])).toBe('guard');
    expect(phaseOf(['consumer'])).toBe('limit');
    expect(phaseOf(['ip', 'consumer'])).toBe('limit');
    expect(phaseOf(['global'])).toBe('limit');
  });

  it('counts IPv6 clients per /64 by default', () => {
    expect(clientNetwork('2001:db8:1:2:aaaa::1', 64)).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:2:ffff:ffff:ffff:ffff', 64)).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('::ffff:192.0.2.7', 64)).toBe('192.0.2.7');
    expect(clientNetwork('2001:db8::1', 128)).toBe('2001:db8::1');
    expect(clientNetwork('2001:db8:abcd::1', 36)).toBe('2001:db8:a000::/36');
  });

  it.each([
    ['no limit at all', '{ type: rate-limit, by: [ip] }', 'give at least one of rate, quota or concurrency'],
    ['global with others', '{ type: rate-limit, by: [global, ip], rate: { limit: 1, windowSeconds: 1 } }', 'global cannot be combined'],
    ['zero limit', '{ type: rate-limit, rate: { limit: 0, windowSeconds: 1 } }', 'rate.limit'],
    ['unknown key', '{ type: rate-limit, rate: { limit: 1, windowSeconds: 1, per: 2 } }', 'unknown key'],
    ['lockout max below base', '{ type: lockout, baseSeconds: 60, maxSeconds: 10 }', 'maxSeconds must be at least baseSeconds'],
  ])('refuses %s at config load', (_name, stage, message) => {
    const text = `upstreams: { a: { url: "http://127.0.0.1:1" } }\nroutes: [{ id: r, path: /r, upstream: a, stages: [${stage}] }]\n`;
    expect(() => parseConfigText(text)).toThrow(message);
  });
});
