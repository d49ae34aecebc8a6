/**
 * Bounded-memory sliding-window counters for the detectors. Each tracks at most `maxKeys`
 * subjects (least recently seen forgotten first) and at most `threshold` samples per subject, so
 * an attacker spraying addresses or ids cannot grow memory without bound.
 */

/** Map that forgets its least recently used entries beyond `max`. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  /** The most recently used key: using it again needs no reordering (one client's many requests). */
  private newest: K | undefined;
  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined && key !== this.newest) {
      this.map.delete(key);
      this.map.set(key, v);
      this.newest = key;
    }
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    this.newest = key;
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
    if (key === this.newest) this.newest = undefined;
  }

  /** Deletes every entry whose value fails `keep`. */
  retain(keep: (value: V) => boolean): void {
    for (const [k, v] of this.map) if (!keep(v)) this.delete(k);
  }

  /** Entries, least recently used first. */
  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  get size(): number {
    return this.map.size;
  }
}

interface CountState {
  times: number[];
  evidence: string[];
  firedAt: number;
}

const EVIDENCE = 5;

/**
 * "At least `threshold` hits for one key within `windowMs`". Fires once per key per window.
 *
 * @example
 *   const c = new WindowCounter({ maxKeys: 10_000, windowMs: 60_000, threshold: 10 });
 *   if (c.hit('1.2.3.4', now, requestId)) raise(...);
 */
export class WindowCounter {
  private readonly state: LruMap<string, CountState>;
  constructor(private readonly o: { maxKeys: number; windowMs: number; threshold: number }) {
    this.state = new LruMap(o.maxKeys);
  }

  /** Records a hit; returns the evidence (recent sample ids) when the threshold is reached. */
  hit(key: string, now: number, sample?: string): { count: number; evidence: string[] } | undefined {
    let s = this.state.get(key);
    if (s === undefined) this.state.set(key, (s = { times: [], evidence: [], firedAt: -Infinity }));
    const since = now - this.o.windowMs;
    while (s.times.length > 0 && s.times[0]! <= since) s.times.shift();
    s.times.push(now);
    if (s.times.length > this.o.threshold) s.times.shift();
    if (sample !== undefined) {
      s.evidence.push(sample);
      if (s.evidence.length > EVIDENCE) s.evidence.shift();
    }
    if (s.times.length < this.o.threshold || now - s.firedAt < this.o.windowMs) return undefined;
    s.firedAt = now;
    return { count: s.times.length, evidence: [...s.evidence] };
  }
}

interface DistinctState {
  /** value → last seen */
  values: Map<string, number>;
  firedAt: number;
}

/**
 * "At least `threshold` distinct values for one key within `windowMs`". Fires once per key per window.
 *
 * @example
 *   const c = new DistinctCounter({ maxKeys: 10_000, windowMs: 3_600_000, threshold: 20 });
 *   if (c.hit(keyPrefix, clientIp, now)) raise(...);
 */
export class DistinctCounter {
  private readonly state: LruMap<string, DistinctState>;
  constructor(private readonly o: { maxKeys: number; windowMs: number; threshold: number }) {
    this.state = new LruMap(o.maxKeys);
  }

  /** Records `value` for `key`; returns the distinct values seen when the threshold is reached. */
  hit(key: string, value: string, now: number): string[] | undefined {
    let s = this.state.get(key);
    if (s === undefined) this.state.set(key, (s = { values: new Map(), firedAt: -Infinity }));
    const since = now - this.o.windowMs;
    for (const [v, t] of s.values) if (t <= since) s.values.delete(v);
    s.values.delete(value);
    s.values.set(value, now);
    // Keep only the most recent `threshold` values: enough to decide, bounded memory.
    if (s.values.size > this.o.threshold) s.values.delete(s.values.keys().next().value as string);
    if (s.values.size < this.o.threshold || now - s.firedAt < this.o.windowMs) return undefined;
    s.firedAt = now;
    return [...s.values.keys()];
  }
}
