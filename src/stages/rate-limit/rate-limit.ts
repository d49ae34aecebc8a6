import { z } from 'zod';
import type { RequestContext } from '../../core/context.js';
import { RampartError } from '../../core/errors.js';
import type { Phase } from '../../core/phases.js';
import type { Stage } from '../../core/stage.js';
import type { CompiledRoute } from '../../server/router.js';
import { CountersUnavailableError, periodBounds, type CounterStore, type Decision, type LimitRule } from '../../stores/counter-store.js';
import { MemoryCounterStore } from '../../stores/memory/counter-store.js';
import { defineStage } from '../definition.js';
import { partition, SCOPES, type Scope } from './partition.js';
import { appendHeader, retryAfterSeconds } from './headers.js';

const POLICY_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

const rateLimitOptions = z
  .object({
    type: z.literal('rate-limit'),
    /**
     * Policy name: in the RateLimit headers, in counter keys and the admin API. Stages with the same
     * name share counters (one budget across routes). Default: `<route id>-<scopes>`.
     */
    name: z.string().regex(POLICY_NAME, 'must be 1-64 characters of a-z A-Z 0-9 _ . -').optional(),
    /**
     * What is counted separately: `ip` (client address, trusted-proxy aware), `consumer`, `key`
     * (credential id), `route`, `global`, or a combination such as `[consumer, route]`.
     * IP-only combinations run in the guard phase (before authentication); the rest in the limit phase.
     */
    by: z.array(z.enum(SCOPES)).min(1).max(4).default(['consumer']),
    /** Smooth limit (GCRA): `limit` requests per `windowSeconds` on average, `burst` more at once. */
    rate: z
      .object({
        limit: z.number().int().min(1),
        /** Window, seconds. */
        windowSeconds: z.number().int().min(1).max(31_536_000),
        /** Extra requests allowed at once above the smooth rate (0: strictly evenly spaced). */
        burst: z.number().int().min(0).default(0),
      })
      .strict()
      .optional(),
    /** Fixed quota per UTC calendar period. */
    quota: z.object({ limit: z.number().int().min(1), period: z.enum(['hour', 'day', 'month']) }).strict().optional(),
    /** Requests in flight at once. */
    concurrency: z
      .object({
        limit: z.number().int().min(1),
        /** A slot held by a vanished process frees itself after this long, seconds. */
        leaseSeconds: z.number().int().min(1).max(86_400).default(300),
      })
      .strict()
      .optional(),
    /**
     * When the counters backend (Redis) cannot be reached: `fail-closed` answers 503 with
     * Retry-After; `fail-open` limits each process locally at the rate divided by `nodes`.
     */
    failMode: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
    /** Gateway processes sharing the limit: the local fallback of `fail-open` allows 1/nodes of it. */
    nodes: z.number().int().min(1).max(1024).default(1),
    /** IPv6 clients are counted per network of this many bits (one client usually holds a /64). */
    ipv6Prefix: z.number().int().min(16).max(128).default(64),
  })
  .strict()
  .refine((o) => o.rate !== undefined || o.quota !== undefined || o.concurrency !== undefined, {
    message: 'give at least one of rate, quota or concurrency',
  })
  .refine((o) => new Set(o.by).size === o.by.length, { message: 'a scope may appear only once', path: ['by'] })
  .refine((o) => !o.by.includes('global') || o.by.length === 1, { message: 'global cannot be combined with other scopes', path: ['by'] });

type RateLimitOptions = z.infer<typeof rateLimitOptions>;

/** Limits keyed by the client address alone can (and should) be checked before authentication. */
export function phaseOf(by: readonly Scope[]): Phase {
  return by.includes('ip') && !by.includes('consumer') && !by.includes('key') ? 'guard' : 'limit';
}

/** The rules of one stage for one partition; `scale` > 1 divides them for the fail-open fallback. */
function rulesFor(o: RateLimitOptions, name: string, part: string, scale: number): LimitRule[] {
  const rules: LimitRule[] = [];
  const share = (n: number): number => Math.max(1, Math.floor(n / scale));
  if (o.rate !== undefined) {
    rules.push({ kind: 'rate', key: `rate:${name}:${part}`, limit: share(o.rate.limit), windowMs: o.rate.windowSeconds * 1000, burst: Math.floor(o.rate.burst / scale) });
  }
  if (o.quota !== undefined) rules.push({ kind: 'quota', key: `quota:${name}:${part}`, limit: share(o.quota.limit), period: o.quota.period });
  if (o.concurrency !== undefined) rules.push({ kind: 'concurrency', key: `conc:${name}:${part}`, limit: share(o.concurrency.limit), leaseMs: o.concurrency.leaseSeconds * 1000 });
  return rules;
}

/** One stage's share of a decision. */
interface Share {
  readonly name: string;
  readonly o: RateLimitOptions;
  readonly part: string;
  readonly rules: LimitRule[];
}

/** Rate-limit stage instances (to find a route's later siblings) and the shares they defer to the last one. */
const RATE_LIMIT_STAGES = new WeakSet<Stage>();
const deferred = new WeakMap<RequestContext, Share[]>();

/**
 * Rate limits, quotas and concurrency limits, exact across gateway processes that share Redis.
 * All rate-limit stages of one phase on a route are decided in ONE atomic step (earlier ones
 * hand their rules to the last): a request is admitted by every limit or charged by none.
 * Limited responses carry `RateLimit-Policy` and `RateLimit` (IETF httpapi draft, structured
 * fields); refusals are 429 problems with `Retry-After`.
 *
 * @example
 *   stages:
 *     - { type: rate-limit, by: [consumer], rate: { limit: 60, windowSeconds: 60, burst: 10 }, quota: { limit: 10000, period: day } }
 *     - { type: rate-limit, by: [ip], rate: { limit: 20, windowSeconds: 1 }, failMode: fail-open, nodes: 3 }
 */
export const rateLimitStage = defineStage({
  type: 'rate-limit',
  // The default: IP-scoped instances run in the guard phase (see phaseOf); the pipeline orders by
  // each stage instance's own phase.
  phase: 'limit',
  options: rateLimitOptions,
  create(o, deps) {
    const name = o.name ?? `${deps.route?.id ?? 'all'}-${o.by.join('-')}`;
    const counters: CounterStore = deps.services.counters;
    let fallback: MemoryCounterStore | undefined;
    const held = new WeakMap<RequestContext, { store: CounterStore; keys: string[] }>();
    const lastOfPhase = new WeakMap<CompiledRoute, boolean>();

    const isLast = (route: CompiledRoute): boolean => {
      let last = lastOfPhase.get(route);
      if (last === undefined) {
        const after = route.stages.slice(route.stages.indexOf(stage) + 1);
        last = !after.some((s) => RATE_LIMIT_STAGES.has(s) && s.phase === stage.phase);
        lastOfPhase.set(route, last);
      }
      return last;
    };

    const decide = async (ctx: RequestContext, shares: readonly Share[]): Promise<{ decision: Decision; store: CounterStore; rules: LimitRule[] }> => {
      const rules = shares.flatMap((sh) => sh.rules);
      try {
        return { decision: await counters.decide(rules, ctx.id), store: counters, rules };
      } catch (err) {
        if (!(err instanceof CountersUnavailableError)) throw err;
        const closed = shares.find((sh) => sh.o.failMode === 'fail-closed');
        if (closed !== undefined) {
          throw new RampartError('RAMPART_RATE_LIMIT_UNAVAILABLE', 'The rate limit cannot be checked right now; retry shortly.', {
            headers: { 'retry-after': '5' },
            reason: `policy ${closed.name}: ${err.message} (fail-closed)`,
          });
        }
        fallback ??= new MemoryCounterStore({ maxEntries: 10_000 });
        const local = shares.flatMap((sh) => rulesFor(sh.o, sh.name, sh.part, sh.o.nodes));
        return { decision: await fallback.decide(local, ctx.id), store: fallback, rules: local };
      }
    };

    const stage: Stage = {
      name: 'rate-limit',
      phase: phaseOf(o.by),
      async handle(ctx) {
        const part = partition(ctx, o.by, o.ipv6Prefix);
        const mine: Share = { name, o, part, rules: rulesFor(o, name, part, 1) };
        const earlier = deferred.get(ctx);
        if (!isLast(ctx.route!)) {
          if (earlier === undefined) deferred.set(ctx, [mine]);
          else earlier.push(mine);
          return;
        }
        deferred.delete(ctx);
        const shares = earlier === undefined ? [mine] : [...earlier, mine];
        const { decision, store, rules } = await decide(ctx, shares);
        writeHeaders(ctx, shares, rules, decision);
        if (!decision.allowed) {
          const seconds = retryAfterSeconds(decision.retryAfterMs);
          const refusedBy = shares.filter((sh, i) => decision.states.slice(offset(shares, i), offset(shares, i + 1)).some((st) => st.retryAfterMs > 0));
          throw new RampartError('RAMPART_RATE_LIMITED', `Too many requests; retry after ${seconds} second${seconds === 1 ? '' : 's'}.`, {
            headers: { 'retry-after': String(seconds) },
            reason: `policy ${refusedBy.map((sh) => sh.name).join(', ')} exceeded by ${refusedBy.map((sh) => sh.part).join(', ')}`,
          });
        }
        const slots = rules.filter((r) => r.kind === 'concurrency').map((r) => r.key);
        if (slots.length > 0) held.set(ctx, { store, keys: slots });
      },
      onComplete(ctx) {
        const slot = held.get(ctx);
        if (slot === undefined) return;
        held.delete(ctx);
        slot.store.release(slot.keys, ctx.id).catch((err: unknown) => {
          // The lease returns the slot on its own; nothing else to do.
          deps.services.logger.warn({ err: (err as Error).message, policy: name }, 'could not release a concurrency slot');
        });
      },
      close: () => fallback?.close(),
    };
    RATE_LIMIT_STAGES.add(stage);
    return stage;
  },
});

/** Index of share `i`'s first rule in the combined rule list. */
function offset(shares: readonly Share[], i: number): number {
  let n = 0;
  for (let j = 0; j < i; j++) n += shares[j]!.rules.length;
  return n;
}

/** `RateLimit-Policy` and `RateLimit` items for the rate and quota rules (concurrency has no draft field). */
function writeHeaders(ctx: RequestContext, shares: readonly Share[], rules: readonly LimitRule[], d: Decision): void {
  const policy: string[] = [];
  const limits: string[] = [];
  let i = 0;
  for (const sh of shares) {
    for (let k = 0; k < sh.rules.length; k++, i++) {
      const rule = rules[i]!;
      const state = d.states[i]!;
      const reset = Math.ceil(state.resetMs / 1000);
      if (rule.kind === 'rate') {
        policy.push(`"${sh.name}";q=${sh.o.rate!.limit};w=${sh.o.rate!.windowSeconds}`);
        limits.push(`"${sh.name}";r=${state.remaining};t=${reset}`);
      } else if (rule.kind === 'quota') {
        const { start, end } = periodBounds(rule.period, Date.now());
        const label = `${sh.name}-${rule.period}`;
        policy.push(`"${label}";q=${sh.o.quota!.limit};w=${(end - start) / 1000}`);
        limits.push(`"${label}";r=${state.remaining};t=${reset}`);
      }
    }
  }
  if (policy.length > 0) appendHeader(ctx, 'ratelimit-policy', policy.join(', '));
  if (limits.length > 0) appendHeader(ctx, 'ratelimit', limits.join(', '));
}
