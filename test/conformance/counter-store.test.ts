/**
 * One suite for the CounterStore contract, run on every backend (memory and Redis) with an
 * injected clock: both must make the same decisions at the same instants.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/core/events.js';
import { periodBounds, type CounterStore, type LimitRule, type LockoutPolicy } from '../../src/stores/counter-store.js';
import { MemoryCounterStore } from '../../src/stores/memory/counter-store.js';
import { RedisCounterStore } from '../../src/stores/redis/counter-store.js';

const REDIS = process.env.RAMPART_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Harness {
  store: CounterStore;
  clock: { t: number };
}

const backends: [string, () => Promise<Harness>][] = [
  ['memory', () => {
    const clock = { t: Date.UTC(2025, 0, 1) };
    return Promise.resolve({ store: new MemoryCounterStore({ now: () => clock.t }), clock });
  }],
  ['redis', async () => {
    const clock = { t: Date.UTC(2025, 0, 1) };
    const events: SecurityEvent[] = [];
    const store = new RedisCounterStore({
      url: `${REDIS}?prefix=test:${randomUUID()}:`,
      logger: pino({ level: 'silent' }),
      emit: (e) => events.push(e),
      now: () => clock.t,
    });
    await store.ready(5000);
    return { store, clock };
  }],
];

describe.each(backends)('CounterStore conformance: %s', (_name, make) => {
  let h: Harness;
  const opened: CounterStore[] = [];
  beforeEach(async () => {
    h = await make();
    opened.push(h.store);
  });
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });

  const rate = (limit: number, windowMs: number, burst: number, key = 'rate:t:a'): LimitRule => ({ kind: 'rate', key, limit, windowMs, burst });

  it('GCRA admits burst + 1 at once, then one per emission interval', async () => {
    const rule = rate(10, 1000, 4);
    const results: boolean[] = [];
    for (let i = 0; i < 6; i++) results.push((await h.store.decide([rule], `r${i}`)).allowed);
    expect(results).toEqual([true, true, true, true, true, false]);
    h.clock.t += 99;
    expect((await h.store.decide([rule], 'x')).allowed).toBe(false);
    h.clock.t += 1;
    const d = await h.store.decide([rule], 'y');
    expect(d.allowed).toBe(true);
    expect(d.states[0]!.remaining).toBe(0);
  });

  it('reports remaining, reset and retry-after', async () => {
    const rule = rate(60, 60_000, 9);
    const first = await h.store.decide([rule], 'a');
    expect(first.states[0]).toEqual({ remaining: 9, resetMs: 1000, retryAfterMs: 0 });
    for (let i = 0; i < 9; i++) await h.store.decide([rule], `b${i}`);
    const refused = await h.store.decide([rule], 'c');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBe(1000);
    expect(refused.states[0]!.remaining).toBe(0);
  });

  it('no more than limit + burst in any sliding window, wherever it starts (no double burst at window edges)', async () => {
    const limit = 20;
    const burst = 5;
    const windowMs = 1000;
    const rule = rate(limit, windowMs, burst);
    const admitted: number[] = [];
    const start = h.clock.t;
    // Hammer: 3 attempts every 7 ms for 5 windows.
    for (let t = 0; t < 5 * windowMs; t += 7) {
      h.clock.t = start + t;
      for (let k = 0; k < 3; k++) if ((await h.store.decide([rule], `${t}-${k}`)).allowed) admitted.push(t);
    }
    let worst = 0;
    for (let i = 0; i < admitted.length; i++) {
      let j = i;
      while (j < admitted.length && admitted[j]! < admitted[i]! + windowMs) j++;
      worst = Math.max(worst, j - i);
    }
    expect(worst).toBeLessThanOrEqual(limit + burst);
    // and the rate is really delivered: burst + 1 at once, then one per 50 ms.
    expect(admitted.length).toBeGreaterThanOrEqual(burst + 1 + Math.floor((5 * windowMs - 7) / (windowMs / limit)) - 1);
  });

  it('refused requests consume nothing', async () => {
    const rule = rate(1, 1000, 0);
    expect((await h.store.decide([rule], 'a')).allowed).toBe(true);
    for (let i = 0; i < 50; i++) expect((await h.store.decide([rule], `no${i}`)).allowed).toBe(false);
    h.clock.t += 1000;
    expect((await h.store.decide([rule], 'b')).allowed).toBe(true);
  });

  it('several rules are charged all or none', async () => {
    const r = rate(100, 1000, 99, 'rate:t:multi');
    const q: LimitRule = { kind: 'quota', key: 'quota:t:multi', limit: 2, period: 'hour' };
    expect((await h.store.decide([r, q], '1')).states.map((s) => s.remaining)).toEqual([99, 1]);
    expect((await h.store.decide([r, q], '2')).allowed).toBe(true);
    const refused = await h.store.decide([r, q], '3');
    expect(refused.allowed).toBe(false);
    // the rate rule was not charged by the refused request
    expect(refused.states[0]!.remaining).toBe(98);
    const next = await h.store.decide([r], '4');
    expect(next.states[0]!.remaining).toBe(97);
  });

  it('quotas count per UTC calendar period and reset at its end', async () => {
    h.clock.t = Date.UTC(2024, 1, 29, 23, 59, 59, 999); // leap day, last millisecond
    const q: LimitRule = { kind: 'quota', key: 'quota:t:m', limit: 2, period: 'month' };
    expect((await h.store.decide([q], 'a')).states[0]).toEqual({ remaining: 1, resetMs: 1, retryAfterMs: 0 });
    await h.store.decide([q], 'b');
    const refused = await h.store.decide([q], 'c');
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBe(1);
    h.clock.t += 1;
    const march = await h.store.decide([q], 'd');
    expect(march.allowed).toBe(true);
    expect(march.states[0]!.resetMs).toBe(Date.UTC(2024, 3, 1) - h.clock.t);
  });

  it.each([
    ['hour', Date.UTC(2025, 5, 15, 10, 30)],
    ['day', Date.UTC(2025, 11, 31, 23, 0)],
    ['month', Date.UTC(2025, 11, 31, 12, 0)],
    ['month', Date.UTC(2023, 1, 10)],
    ['month', Date.UTC(2100, 1, 28)],
  ] as const)('quota period %s at %d ends where periodBounds says', async (period, t) => {
    h.clock.t = t;
    const d = await h.store.decide([{ kind: 'quota', key: `quota:t:${period}`, limit: 5, period }], 'a');
    expect(d.states[0]!.resetMs).toBe(periodBounds(period, t).end - t);
  });

  it('concurrency holds slots until released, and a lease lapses on its own', async () => {
    const c: LimitRule = { kind: 'concurrency', key: 'conc:t:a', limit: 2, leaseMs: 10_000 };
    expect((await h.store.decide([c], 'one')).allowed).toBe(true);
    expect((await h.store.decide([c], 'two')).allowed).toBe(true);
    expect((await h.store.decide([c], 'three')).allowed).toBe(false);
    await h.store.release(['conc:t:a'], 'one');
    expect((await h.store.decide([c], 'four')).allowed).toBe(true);
    expect((await h.store.decide([c], 'five')).allowed).toBe(false);
    h.clock.t += 10_001; // holders vanished without releasing
    expect((await h.store.decide([c], 'six')).allowed).toBe(true);
  });

  it('locks out with exponential backoff, ignores failures during a lockout, and clears', async () => {
    const policy: LockoutPolicy = { threshold: 3, windowMs: 60_000, baseMs: 1000, maxMs: 3000, resetMs: 100_000 };
    const key = 'lockout:ip:192.0.2.1';
    expect((await h.store.recordFailure(key, policy)).started).toBe(false);
    await h.store.recordFailure(key, policy);
    const third = await h.store.recordFailure(key, policy);
    expect(third).toEqual({ failures: 0, level: 1, lockedUntil: h.clock.t + 1000, started: true });
    expect(await h.store.lockedUntil([key, 'lockout:principal:x'])).toBe(h.clock.t + 1000);
    // hammering while locked out does not extend the lockout
    for (let i = 0; i < 10; i++) expect((await h.store.recordFailure(key, policy)).lockedUntil).toBe(third.lockedUntil);
    h.clock.t += 1000;
    expect(await h.store.lockedUntil([key])).toBe(0);
    for (let i = 0; i < 3; i++) await h.store.recordFailure(key, policy);
    expect(await h.store.lockedUntil([key])).toBe(h.clock.t + 2000);
    h.clock.t += 2000;
    for (let i = 0; i < 3; i++) await h.store.recordFailure(key, policy);
    expect(await h.store.lockedUntil([key])).toBe(h.clock.t + 3000); // capped at maxMs
    const [entry] = await h.store.list('lockout:', 10);
    expect(entry).toMatchObject({ key, kind: 'lockout', state: { level: 3, lockedUntil: h.clock.t + 3000 } });
    expect(await h.store.reset(key)).toBe(true);
    expect(await h.store.lockedUntil([key])).toBe(0);
    expect(await h.store.reset(key)).toBe(false);
  });

  it('failures outside the window do not add up', async () => {
    const policy: LockoutPolicy = { threshold: 2, windowMs: 1000, baseMs: 5000, maxMs: 5000, resetMs: 10_000 };
    await h.store.recordFailure('lockout:principal:bob', policy);
    h.clock.t += 1000;
    expect((await h.store.recordFailure('lockout:principal:bob', policy)).started).toBe(false);
  });

  it('lists counters by prefix and resets one', async () => {
    await h.store.decide([rate(5, 1000, 0, 'rate:p1:alice'), { kind: 'quota', key: 'quota:p1:alice', limit: 9, period: 'day' }], 't');
    await h.store.decide([rate(5, 1000, 0, 'rate:p2:bob')], 't');
    const listed = await h.store.list('rate:p1:', 10);
    expect(listed.map((e) => [e.key, e.kind])).toEqual([['rate:p1:alice', 'rate']]);
    const quota = await h.store.list('quota:p1:alice', 10);
    expect(quota).toHaveLength(1);
    expect(quota[0]!.state).toEqual({ count: 1 });
    expect(await h.store.reset('rate:p1:alice')).toBe(true);
    expect((await h.store.decide([rate(5, 1000, 0, 'rate:p1:alice')], 't')).states[0]!.remaining).toBe(0);
  });
});

describe('MemoryCounterStore bounds', () => {
  it('never holds more than maxEntries keys, evicting the least recently written', async () => {
    const store = new MemoryCounterStore({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) await store.decide([{ kind: 'rate', key: `rate:x:${i}`, limit: 1, windowMs: 60_000, burst: 0 }], 't');
    expect(store.size).toBe(100);
    expect((await store.list('rate:x:999', 1)).length).toBe(1);
    expect((await store.list('rate:x:0', 1)).length).toBe(0);
  });

  it('keeps a key written at least every maxEntries / 2 new keys, however many keys pass by', async () => {
    const store = new MemoryCounterStore({ maxEntries: 100 });
    const hot = { kind: 'rate', key: 'rate:x:hot', limit: 100, windowMs: 60_000, burst: 100 } as const;
    store.decide([hot], 't');
    for (let i = 0; i < 1000; i++) {
      store.decide([{ kind: 'rate', key: `rate:x:${i}`, limit: 1, windowMs: 60_000, burst: 0 }], 't');
      if (i % 49 === 0) store.decide([hot], 't');
    }
    expect(store.size).toBe(100);
    expect((await store.list('rate:x:hot', 1))[0]?.state.tat).toBeGreaterThan(0);
    // ...while a key written once is evicted after maxEntries newer keys, as before.
    expect((await store.list('rate:x:899', 1)).length).toBe(0);
  });
});
