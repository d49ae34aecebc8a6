/**
 * Counters for one process, bounded: at most `maxEntries` keys, the least recently written evicted
 * first (an evicted limit starts afresh, which errs towards admitting; lockouts are written on every
 * failure, so an active attacker's entry is the last to go). Recency is kept in halves of the bound
 * rather than exactly: moving a key to the back of the Map (delete + set) costs far more than the
 * decision itself, so a rewritten entry moves only once `maxEntries / 2` keys were placed after it.
 * A key written at least that often is never evicted.
 */
import {
  lockoutDuration,
  periodBounds,
  type CounterEntry,
  type CounterStore,
  type CounterStoreHealth,
  type Decision,
  type LimitRule,
  type LockoutPolicy,
  type LockoutState,
  type QuotaPeriod,
  type RuleState,
} from '../counter-store.js';

/** Float slack for GCRA arithmetic on fractional emission intervals, milliseconds. */
const EPSILON = 1e-6;

/** `placed`: the store's placement count when the entry last moved to the back of the Map. */
type Entry = { placed: number } & (
  | { kind: 'rate'; expiresAt: number; tat: number }
  | { kind: 'quota'; expiresAt: number; count: number }
  | { kind: 'concurrency'; expiresAt: number; slots: Map<string, number> }
  | { kind: 'lockout'; expiresAt: number; failures: number; windowStart: number; level: number; lockedUntil: number }
);

export interface MemoryCounterStoreOptions {
  /** Most keys kept (default 100 000, a few tens of MB). */
  maxEntries?: number;
  /** Clock in epoch milliseconds (tests inject one). */
  now?: () => number;
}

/**
 * In-process {@link CounterStore}: exact for one gateway process, and the local fallback of
 * `fail-open` routes when Redis is down.
 *
 * @example
 *   const store = new MemoryCounterStore({ maxEntries: 10_000 });
 *   store.decide([{ kind: 'quota', key: 'quota:demo:alice', limit: 1000, period: 'day' }], 'req-1');
 */
export class MemoryCounterStore implements CounterStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Entries placed at the back of the Map so far (new or moved). */
  private placed = 0;

  constructor(options: MemoryCounterStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Number of keys held (for the bound's tests and the admin API). */
  get size(): number {
    return this.entries.size;
  }

  /** Checks every rule, then charges all or none; synchronous (the stage stays promise-free). */
  decide(rules: readonly LimitRule[], token: string): Decision {
    const now = this.now();
    const states: RuleState[] = [];
    let allowed = true;
    let retryAfterMs = 0;
    for (const rule of rules) {
      const state = this.check(rule, now);
      if (state.retryAfterMs > 0) {
        allowed = false;
        retryAfterMs = Math.max(retryAfterMs, state.retryAfterMs);
      }
      states.push(state);
    }
    if (allowed) for (const rule of rules) this.charge(rule, token, now);
    else for (let i = 0; i < rules.length; i++) states[i] = refusedView(rules[i]!, states[i]!);
    return { allowed, states, retryAfterMs };
  }

  /** State of `rule` as if this request were admitted, with retryAfterMs > 0 when it is not. */
  private check(rule: LimitRule, now: number): RuleState {
    if (rule.kind === 'rate') {
      const interval = rule.windowMs / rule.limit;
      const capacity = (rule.burst + 1) * interval;
      const entry = this.get(rule.key, 'rate', now);
      const tat = Math.max(entry?.tat ?? now, now);
      const next = tat + interval;
      if (next - now > capacity + EPSILON) return { remaining: 0, resetMs: tat - now, retryAfterMs: next - now - capacity };
      return { remaining: Math.floor((capacity - (next - now)) / interval + EPSILON), resetMs: next - now, retryAfterMs: 0 };
    }
    if (rule.kind === 'quota') {
      const { end } = periodBounds(rule.period, now);
      const count = this.get(periodKey(rule.key, rule.period, now), 'quota', now)?.count ?? 0;
      if (count + 1 > rule.limit) return { remaining: 0, resetMs: end - now, retryAfterMs: end - now };
      return { remaining: rule.limit - count - 1, resetMs: end - now, retryAfterMs: 0 };
    }
    const slots = this.get(rule.key, 'concurrency', now)?.slots;
    if (slots !== undefined) for (const [t, expiry] of slots) if (expiry <= now) slots.delete(t);
    const inFlight = slots?.size ?? 0;
    // Nobody knows when a slot frees up: one second is a polite, cheap retry hint.
    if (inFlight + 1 > rule.limit) return { remaining: 0, resetMs: 0, retryAfterMs: 1000 };
    return { remaining: rule.limit - inFlight - 1, resetMs: 0, retryAfterMs: 0 };
  }

  private charge(rule: LimitRule, token: string, now: number): void {
    if (rule.kind === 'rate') {
      const entry = this.get(rule.key, 'rate', now);
      const tat = Math.max(entry?.tat ?? now, now) + rule.windowMs / rule.limit;
      if (entry === undefined) this.place(rule.key, { kind: 'rate', tat, expiresAt: Math.ceil(tat), placed: 0 });
      else {
        entry.tat = tat;
        entry.expiresAt = Math.ceil(tat);
        this.rewritten(rule.key, entry);
      }
    } else if (rule.kind === 'quota') {
      const key = periodKey(rule.key, rule.period, now);
      const entry = this.get(key, 'quota', now);
      if (entry === undefined) this.place(key, { kind: 'quota', count: 1, expiresAt: periodBounds(rule.period, now).end, placed: 0 });
      else {
        entry.count++;
        this.rewritten(key, entry);
      }
    } else {
      const entry = this.get(rule.key, 'concurrency', now);
      if (entry === undefined) this.place(rule.key, { kind: 'concurrency', slots: new Map([[token, now + rule.leaseMs]]), expiresAt: now + rule.leaseMs, placed: 0 });
      else {
        entry.slots.set(token, now + rule.leaseMs);
        entry.expiresAt = now + rule.leaseMs;
        this.rewritten(rule.key, entry);
      }
    }
  }

  release(keys: readonly string[], token: string): Promise<void> {
    const now = this.now();
    for (const key of keys) {
      const entry = this.get(key, 'concurrency', now);
      if (entry === undefined) continue;
      entry.slots.delete(token);
      if (entry.slots.size === 0) this.entries.delete(key);
    }
    return Promise.resolve();
  }

  recordFailure(key: string, policy: LockoutPolicy): Promise<LockoutState> {
    const now = this.now();
    const found = this.get(key, 'lockout', now);
    const e = found ?? { kind: 'lockout', expiresAt: 0, failures: 0, windowStart: now, level: 0, lockedUntil: 0, placed: 0 };
    // Failures while locked out are not counted: they could only lengthen the lockout, which would
    // let an attacker keep a victim's account locked for ever.
    let started = false;
    if (e.lockedUntil <= now) {
      if (now - e.windowStart >= policy.windowMs) {
        e.failures = 0;
        e.windowStart = now;
      }
      e.failures++;
      if (e.failures >= policy.threshold) {
        e.level++;
        e.lockedUntil = now + lockoutDuration(policy, e.level);
        e.failures = 0;
        e.windowStart = now;
        started = true;
      }
    }
    e.expiresAt = Math.max(e.windowStart + policy.windowMs, e.level > 0 ? e.lockedUntil + policy.resetMs : 0);
    if (found === undefined) this.place(key, e);
    else this.rewritten(key, e);
    return Promise.resolve({ failures: e.failures, level: e.level, lockedUntil: e.lockedUntil, started });
  }

  lockedUntil(keys: readonly string[]): Promise<number> {
    const now = this.now();
    let until = 0;
    for (const key of keys) {
      const e = this.get(key, 'lockout', now);
      if (e !== undefined && e.lockedUntil > now) until = Math.max(until, e.lockedUntil);
    }
    return Promise.resolve(until);
  }

  list(prefix: string, max: number): Promise<CounterEntry[]> {
    const now = this.now();
    const out: CounterEntry[] = [];
    for (const [key, e] of this.entries) {
      if (out.length >= max) break;
      if (!key.startsWith(prefix) || e.expiresAt <= now) continue;
      out.push({ key, kind: e.kind, expiresAt: e.expiresAt, state: describe(e, now) });
    }
    return Promise.resolve(out);
  }

  reset(key: string): Promise<boolean> {
    const existed = this.get(key, undefined, this.now()) !== undefined;
    this.entries.delete(key);
    return Promise.resolve(existed);
  }

  health(): CounterStoreHealth {
    return { backend: 'memory', available: true, failures: 0 };
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }

  private get<K extends Entry['kind']>(key: string, kind: K | undefined, now: number): Extract<Entry, { kind: K }> | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (kind !== undefined && e.kind !== kind) return undefined;
    return e as Extract<Entry, { kind: K }>;
  }

  /** Puts `entry` at the back of the Map (the first key is the next to evict), evicting past the bound. */
  private place(key: string, entry: Entry): void {
    this.entries.delete(key);
    entry.placed = ++this.placed;
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** `entry`, already stored under `key`, was updated in place: moves it back once it drifted into the older half. */
  private rewritten(key: string, entry: Entry): void {
    if (this.placed - entry.placed >= this.maxEntries / 2) this.place(key, entry);
  }
}

/** A refused request is charged nothing: its view is the current state, with nothing remaining. */
function refusedView(rule: LimitRule, state: RuleState): RuleState {
  if (state.retryAfterMs > 0) return state;
  const resetMs = rule.kind === 'rate' ? Math.max(0, state.resetMs - rule.windowMs / rule.limit) : state.resetMs;
  return { remaining: state.remaining + 1, resetMs, retryAfterMs: 0 };
}

/** Quota counters are per period: the key carries the period start so a new period starts at 0. */
export function periodKey(key: string, period: QuotaPeriod, now: number): string {
  return `${key}:${periodBounds(period, now).start}`;
}

function describe(e: Entry, now: number): Record<string, number> {
  if (e.kind === 'rate') return { tat: Math.round(e.tat) };
  if (e.kind === 'quota') return { count: e.count };
  if (e.kind === 'concurrency') return { inFlight: [...e.slots.values()].filter((x) => x > now).length };
  return { failures: e.failures, level: e.level, lockedUntil: e.lockedUntil };
}
