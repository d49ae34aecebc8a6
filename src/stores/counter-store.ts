/**
 * The counters contract: rate limits, quotas, concurrency and brute-force lockouts, decided
 * atomically by one backend shared by every gateway process (`counters: memory | redis://…`).
 * Backends: `memory/counter-store.ts` (one process) and `redis/counter-store.ts` (a cluster).
 * Both run the same algorithms (GCRA, calendar quotas, leased concurrency slots, exponential
 * lockout) and pass the same conformance suite (`test/conformance/counter-store.test.ts`).
 */

/**
 * A smooth limit (GCRA, the algorithm of a leaky bucket without its timer): on average `limit`
 * requests per `windowMs`, at most `burst` more at once. In any window of `windowMs` no more than
 * `limit + burst` requests pass, wherever the window starts (no double burst at window edges).
 */
export interface RateRule {
  readonly kind: 'rate';
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly burst: number;
}

/** Calendar periods of a quota, in UTC. */
export type QuotaPeriod = 'hour' | 'day' | 'month';

/** A fixed quota per calendar period (UTC): `limit` requests per hour, day or month. */
export interface QuotaRule {
  readonly kind: 'quota';
  readonly key: string;
  readonly limit: number;
  readonly period: QuotaPeriod;
}

/**
 * At most `limit` requests in flight. Each admitted request holds a slot named by its token until
 * {@link CounterStore.release}; a slot whose holder vanished (process crash) lapses after `leaseMs`.
 */
export interface ConcurrencyRule {
  readonly kind: 'concurrency';
  readonly key: string;
  readonly limit: number;
  readonly leaseMs: number;
}

export type LimitRule = RateRule | QuotaRule | ConcurrencyRule;

/** Where one rule stands after a decision. */
export interface RuleState {
  /** Units left after this decision (0 when refused). */
  readonly remaining: number;
  /** Milliseconds until the rule's quota is fully restored. */
  readonly resetMs: number;
  /** Milliseconds until this rule would admit the request (0 when it admits it). */
  readonly retryAfterMs: number;
}

/** Result of {@link CounterStore.decide}: every rule admits (and is charged) or none is charged. */
export interface Decision {
  readonly allowed: boolean;
  /** One state per rule, in the order given. */
  readonly states: readonly RuleState[];
  /** Milliseconds until every refusing rule would admit (0 when allowed). */
  readonly retryAfterMs: number;
}

/** Exponential-backoff lockout after repeated failures (brute-force protection). */
export interface LockoutPolicy {
  /** Failures within `windowMs` that start a lockout. */
  readonly threshold: number;
  readonly windowMs: number;
  /** First lockout; each further lockout doubles it, up to `maxMs`. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** The backoff level is forgotten after this long without a new lockout. */
  readonly resetMs: number;
}

/** A subject's lockout state. */
export interface LockoutState {
  /** Failures counted in the current window. */
  readonly failures: number;
  /** Lockouts so far (drives the backoff). */
  readonly level: number;
  /** Epoch milliseconds until which the subject is locked out (0 when never). */
  readonly lockedUntil: number;
  /** This failure started the lockout. */
  readonly started: boolean;
}

/** One stored counter, as the admin API shows it. */
export interface CounterEntry {
  readonly key: string;
  readonly kind: 'rate' | 'quota' | 'concurrency' | 'lockout';
  /** Epoch milliseconds when the entry expires on its own (undefined: unknown). */
  readonly expiresAt: number | undefined;
  /** Kind-specific state: `tat` (rate), `count` (quota), `inFlight` (concurrency), lockout fields. */
  readonly state: Readonly<Record<string, number>>;
}

/** Health of the backend, shown by the admin API. */
export interface CounterStoreHealth {
  readonly backend: 'memory' | 'redis';
  readonly available: boolean;
  /** Operations refused because the backend was unreachable, since start. */
  readonly failures: number;
}

/**
 * The counters backend. Every method is one atomic step on the shared state; a backend that cannot
 * reach its state throws {@link CountersUnavailableError} (the caller's fail-open/fail-closed
 * policy decides what happens then).
 *
 * @example
 *   const d = await store.decide([{ kind: 'rate', key: 'rate:demo:alice', limit: 60, windowMs: 60_000, burst: 10 }], ctx.id);
 *   if (!d.allowed) throw tooManyRequests(d.retryAfterMs);
 */
export interface CounterStore {
  /**
   * Checks every rule; charges all of them only when all admit (refused requests consume nothing).
   * A backend that decides in process answers synchronously, so that its callers allocate no
   * promise; a remote one answers with a promise.
   */
  decide(rules: readonly LimitRule[], token: string): Decision | Promise<Decision>;
  /** Frees the concurrency slots that `token` holds under `keys`. */
  release(keys: readonly string[], token: string): Promise<void>;
  /** Counts one failure for `key`; starts (or extends) a lockout past the threshold. */
  recordFailure(key: string, policy: LockoutPolicy): Promise<LockoutState>;
  /** Epoch milliseconds until which the most locked-out of `keys` is locked (0 when none is). */
  lockedUntil(keys: readonly string[]): Promise<number>;
  /** Stored counters whose key starts with `prefix` (at most `max`). */
  list(prefix: string, max: number): Promise<CounterEntry[]>;
  /** Forgets one counter (a limit or a lockout). True when it existed. */
  reset(key: string): Promise<boolean>;
  health(): CounterStoreHealth;
  /** Resolves once connected, or after `timeoutMs` (fail modes cover a backend that is not up yet). */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The counters backend cannot be reached; the route's `failMode` decides. */
export class CountersUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CountersUnavailableError';
  }
}

/** The kind of a stored key, from its first segment (`rate:…`, `quota:…`, `conc:…`, `lockout:…`). */
export function kindOfKey(key: string): CounterEntry['kind'] | undefined {
  const head = key.slice(0, key.indexOf(':'));
  return head === 'rate' ? 'rate' : head === 'quota' ? 'quota' : head === 'conc' ? 'concurrency' : head === 'lockout' ? 'lockout' : undefined;
}

/**
 * Start and end (epoch ms) of the UTC calendar period containing `now`. Redis runs the same
 * arithmetic in Lua (see redis/scripts.ts) so both backends cut periods at the same instants.
 */
export function periodBounds(period: QuotaPeriod, now: number): { start: number; end: number } {
  if (period === 'hour') {
    const start = now - (now % 3_600_000);
    return { start, end: start + 3_600_000 };
  }
  if (period === 'day') {
    const start = now - (now % 86_400_000);
    return { start, end: start + 86_400_000 };
  }
  const d = new Date(now);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

/** Length of the backoff for the `level`-th lockout (1-based). */
export function lockoutDuration(policy: LockoutPolicy, level: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(level - 1, 40));
}
