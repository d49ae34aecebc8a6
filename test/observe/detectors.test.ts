/** Each detector: the attack it recognises (once per window) and the legitimate pattern it leaves alone. */
import { describe, expect, it } from 'vitest';
import { Detectors, type Detection, type RequestFacts } from '../../src/observe/detectors/detectors.js';
import { DistinctCounter, LruMap } from '../../src/observe/detectors/window.js';
import { observeSchema } from '../../src/observe/config.js';
import { manualClock } from './helpers.js';

const cfg = observeSchema.parse({
  detectors: {
    bruteForce: { threshold: 5, windowSeconds: 60 },
    credentialStuffing: { distinct: 4, windowSeconds: 60 },
    enumeration: { distinctObjects: 10, deniedOrMissing: 6, windowSeconds: 60 },
    injection: { threshold: 3, windowSeconds: 60 },
    leakedKey: { distinctIps: 5, windowSeconds: 60 },
    trafficAnomaly: { bucketSeconds: 10, factor: 3, minRequests: 50, warmupBuckets: 3 },
  },
}).detectors;

function setup(): { clock: ReturnType<typeof manualClock>; raised: Detection[]; see(f: Partial<RequestFacts>): void } {
  const clock = manualClock();
  const raised: Detection[] = [];
  const d = new Detectors(cfg, (x) => raised.push(x));
  let n = 0;
  return {
    clock,
    raised,
    see: (f) =>
      d.observe({ time: clock.now(), requestId: `r${n++}`, clientIp: '10.0.0.1', route: 'pets', status: 200, code: undefined, consumer: undefined, principal: undefined, credential: undefined, objectIds: [], injection: false, ...f }),
  };
}
const types = (r: Detection[]): string[] => r.map((d) => d.event.type);

describe('detectors', () => {
  it('brute force: failures from one address fire once per window; requests without credentials do not count', () => {
    const { raised, see, clock } = setup();
    for (let i = 0; i < 20; i++) see({ status: 401, code: 'RAMPART_AUTH_REQUIRED' });
    for (let i = 0; i < 4; i++) see({ status: 401, code: 'RAMPART_AUTH_INVALID_KEY', clientIp: '10.0.0.2' });
    expect(raised).toHaveLength(0);
    for (let i = 0; i < 20; i++) see({ status: 401, code: 'RAMPART_AUTH_INVALID_KEY' });
    expect(types(raised)).toEqual(['detection.brute_force']);
    expect(raised[0]!.event).toMatchObject({ clientIp: '10.0.0.1', severity: 'high', data: { dedupKey: 'brute_force:ip:10.0.0.1' } });
    clock.advance(61_000);
    for (let i = 0; i < 5; i++) see({ status: 401, code: 'RAMPART_AUTH_INVALID_KEY' });
    expect(raised).toHaveLength(2);
  });

  it('failures spread slower than the window never fire', () => {
    const { raised, see, clock } = setup();
    for (let i = 0; i < 50; i++) {
      see({ status: 401, code: 'RAMPART_AUTH_INVALID_KEY' });
      clock.advance(16_000);
    }
    expect(raised).toHaveLength(0);
  });

  it('credential stuffing: many distinct principals from one address; one user retrying does not', () => {
    const { raised, see } = setup();
    for (let i = 0; i < 3; i++) see({ status: 401, code: 'RAMPART_AUTH_INVALID_KEY', principal: 'alice', clientIp: '10.0.0.9' });
    expect(raised).toHaveLength(0);
    for (const u of ['a', 'b', 'c', 'd']) see({ status: 401, code: 'RAMPART_AUTH_INVALID_PASSWORD', principal: u, clientIp: '10.0.0.3' });
    expect(types(raised)).toContain('detection.credential_stuffing');
  });

  it('enumeration: one consumer walking object ids, or collecting 403/404s; browsing a few objects does not', () => {
    const { raised, see } = setup();
    for (let i = 0; i < 9; i++) see({ consumer: 'bob', objectIds: [String(i)] });
    for (let i = 0; i < 30; i++) see({ consumer: 'bob', objectIds: ['1'] });
    expect(raised).toHaveLength(0);
    for (let i = 100; i < 110; i++) see({ consumer: 'mallory', objectIds: [String(i)] });
    expect(raised.map((d) => d.event.data?.['subject'])).toEqual(['consumer:mallory']);
    for (let i = 0; i < 6; i++) see({ status: 404, clientIp: '10.0.0.7' });
    expect(raised.map((d) => d.event.data?.['subject'])).toEqual(['consumer:mallory', 'ip:10.0.0.7']);
  });

  it('injection campaign and leaked key', () => {
    const { raised, see } = setup();
    for (let i = 0; i < 3; i++) see({ status: 403, injection: true, clientIp: '10.0.0.4' });
    expect(types(raised)).toEqual(['detection.injection_campaign']);
    for (let i = 0; i < 4; i++) see({ credential: 'rk_abc', clientIp: `10.1.0.${i}` });
    expect(raised).toHaveLength(1);
    see({ credential: 'rk_abc', clientIp: '10.1.0.99' });
    expect(raised[1]!.event).toMatchObject({ type: 'detection.leaked_key', data: { evidence: { credential: 'rk_abc', recommendedAction: 'suspend_key' } } });
  });

  it('traffic anomaly: a burst far above the moving baseline fires once; steady traffic does not', () => {
    const { raised, see, clock } = setup();
    for (let b = 0; b < 6; b++) {
      for (let i = 0; i < 40; i++) see({});
      clock.advance(10_000);
    }
    expect(raised).toHaveLength(0);
    for (let i = 0; i < 400; i++) see({});
    expect(types(raised)).toEqual(['detection.traffic_anomaly']);
  });

  it('memory stays bounded however many subjects an attacker sprays', () => {
    const order = new LruMap<string, number>(2);
    order.set('a', 1);
    order.set('b', 2);
    order.get('b'); // already the newest
    order.get('a'); // now the newest: b is the least recently used
    order.set('c', 3);
    expect([...order.entries()].map(([k]) => k)).toEqual(['a', 'c']);
    order.delete('c');
    order.get('a');
    order.set('d', 4);
    order.set('e', 5);
    expect([...order.entries()].map(([k]) => k)).toEqual(['d', 'e']);
    const lru = new LruMap<string, number>(100);
    for (let i = 0; i < 100_000; i++) lru.set(`ip${i}`, i);
    expect(lru.size).toBe(100);
    // Distinct values per subject are capped at the threshold: a key still fires after a long spray.
    const distinct = new DistinctCounter({ maxKeys: 10, windowMs: 1000, threshold: 5 });
    let fired = 0;
    for (let i = 0; i < 10_000; i++) if (distinct.hit('k', `v${i}`, i * 2000) !== undefined) fired++;
    expect(fired).toBe(0); // one value per window: never 5 at once
    for (let i = 0; i < 5; i++) if (distinct.hit('k', `w${i}`, 30_000_000) !== undefined) fired++;
    expect(fired).toBe(1);
  });
});
