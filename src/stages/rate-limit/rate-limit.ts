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

/**
 * The rules of one stage with keys that stop before the partition (`rate:<name>:`); `scale` > 1
 * divides them for the fail-open fallback. Built once per stage, completed per request by {@link forPartition}.
 */
function rulesFor(o: RateLimitOptions, name: string, scale: number): LimitRule[] {
  const rules: LimitRule[] = [];
  const share = (n: number): number => Math.max(1, Math.floor(n / scale));
  if (o.rate !== undefined) {
    rules.push({ kind: 'rate', key: `rate:${name}:`, limit: share(o.rate.limit), windowMs: o.rate.windowSeconds * 1000, burst: Math.floor(o.rate.burst / scale) });
  }
  if (o.quota !== undefined) rules.push({ kind: 'quota', key: `quota:${name}:`, limit: share(o.quota.limit), period: o.quota.period });
  if (o.concurrency !== undefined) rules.push({ kind: 'concurrency', key: `conc:${name}:`, limit: share(o.concurrency.limit), leaseMs: o.concurrency.leaseSeconds * 1000 });
  return rules;
}

/** `templates` (from {@link rulesFor}) with the partition appended to their keys. */
function forPartition(templates: readonly LimitRule[], part: string): LimitRule[] {
  const rules: LimitRule[] = new Array<LimitRule>(templates.length);
  for (let i = 0; i < templates.length; i++) {
    const t = templates[i]!;
    rules[i] = { ...t, key: t.key + part };
  }
  return rules;
}

/** What a stage knows before any request. */
interface Policy {
  readonly name: string;
  readonly o: RateLimitOptions;
  readonly templates: readonly LimitRule[];
  /** The fail-open fallback's templates (the limits divided by `nodes`), built when first needed. */
  local: readonly LimitRule[] | undefined;
  /** `RateLimit-Policy` item of the rate rule. */
  readonly rateItem: string | undefined;
  /** The stage's admitted concurrency slots, to release on completion (undefined: no concurrency limit). */
  readonly held: WeakMap<RequestContext, Held> | undefined;
}

/** Concurrency slot a request holds, in the store that granted it. */
interface Held {
  readonly store: CounterStore;
  readonly key: string;
}

/** One stage's share of a decision. */
interface Share {
  readonly policy: Policy;
  readonly part: string;
  readonly rules: readonly LimitRule[];
}

/** Where a stage sits among a route's rate-limit stages of its phase. */
interface Position {
  readonly first: boolean;
  readonly last: boolean;
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
    const policy: Policy = {
      name,
      o,
      templates: rulesFor(o, name, 1),
      local: undefined,
      rateItem: o.rate === undefined ? undefined : `"${name}";q=${o.rate.limit};w=${o.rate.windowSeconds}`,
      held: o.concurrency === undefined ? undefined : new WeakMap<RequestContext, Held>(),
    };
    const positions = new WeakMap<CompiledRoute, Position>();

    const positionOn = (route: CompiledRoute): Position => {
      let pos = positions.get(route);
      if (pos === undefined) {
        const at = route.stages.indexOf(stage);
        const sibling = (s: Stage): boolean => RATE_LIMIT_STAGES.has(s) && s.phase === stage.phase;
        pos = { first: !route.stages.slice(0, at).some(sibling), last: !route.stages.slice(at + 1).some(sibling) };
        positions.set(route, pos);
      }
      return pos;
    };

    /** The counters cannot be reached: refuse (fail-closed), or decide on this process's own counters. */
    const unavailable = (ctx: RequestContext, shares: readonly Share[], err: unknown): void => {
      if (!(err instanceof CountersUnavailableError)) throw err;
      const closed = shares.find((sh) => sh.policy.o.failMode === 'fail-closed');
      if (closed !== undefined) {
        throw new RampartError('RAMPART_RATE_LIMIT_UNAVAILABLE', 'The rate limit cannot be checked right now; retry shortly.', {
          headers: { 'retry-after': '5' },
          reason: `policy ${closed.policy.name}: ${err.message} (fail-closed)`,
        });
      }
      fallback ??= new MemoryCounterStore({ maxEntries: 10_000 });
      const local = shares.map((sh): Share => {
        const p = sh.policy;
        p.local ??= rulesFor(p.o, p.name, p.o.nodes);
        return { policy: p, part: sh.part, rules: forPartition(p.local, sh.part) };
      });
      const rules = local.flatMap((sh) => sh.rules);
      conclude(ctx, local, fallback.decide(rules, ctx.id), fallback);
    };

    const stage: Stage = {
      name: 'rate-limit',
      phase: phaseOf(o.by),
      /** Synchronous on the memory counters (no promise); one script round trip on Redis. */
      handle(ctx) {
        const part = partition(ctx, o.by, o.ipv6Prefix);
        const mine: Share = { policy, part, rules: forPartition(policy.templates, part) };
        const pos = positionOn(ctx.route!);
        let shares: Share[] = [mine];
        if (!pos.first || !pos.last) {
          const earlier = pos.first ? undefined : deferred.get(ctx);
          if (earlier !== undefined) {
            earlier.push(mine);
            shares = earlier;
          }
          if (!pos.last) {
            if (earlier === undefined) deferred.set(ctx, shares);
            return;
          }
          deferred.delete(ctx);
        }
        const rules = shares.length === 1 ? mine.rules : shares.flatMap((sh) => sh.rules);
        const answer = counters.decide(rules, ctx.id);
        if (!(answer instanceof Promise)) return conclude(ctx, shares, answer, counters);
        return answer.then(
          (decision) => conclude(ctx, shares, decision, counters),
          (err: unknown) => unavailable(ctx, shares, err),
        );
      },
      ...(policy.held === undefined
        ? {}
        : {
            onComplete(ctx: RequestContext): void {
              const slot = policy.held!.get(ctx);
              if (slot === undefined) return;
              policy.held!.delete(ctx);
              slot.store.release([slot.key], ctx.id).catch((err: unknown) => {
                // The lease returns the slot on its own; nothing else to do.
                deps.services.logger.warn({ err: (err as Error).message, policy: name }, 'could not release a concurrency slot');
              });
            },
          }),
      close: () => fallback?.close(),
    };
    RATE_LIMIT_STAGES.add(stage);
    return stage;
  },
});

/** After the counters answered: headers, then the refusal, or the concurrency slots the request now holds. */
function conclude(ctx: RequestContext, shares: readonly Share[], d: Decision, store: CounterStore): void {
  writeHeaders(ctx, shares, d);
  if (!d.allowed) throw refusal(shares, d);
  for (const sh of shares) {
    if (sh.policy.held === undefined) continue;
    const slot = sh.rules.find((r) => r.kind === 'concurrency')!;
    sh.policy.held.set(ctx, { store, key: slot.key });
  }
}

/** 429 naming the policies (and partitions) that refused. */
function refusal(shares: readonly Share[], d: Decision): RampartError {
  const seconds = retryAfterSeconds(d.retryAfterMs);
  const refusedBy: Share[] = [];
  let i = 0;
  for (const sh of shares) {
    let refused = false;
    for (let k = 0; k < sh.rules.length; k++, i++) if (d.states[i]!.retryAfterMs > 0) refused = true;
    if (refused) refusedBy.push(sh);
  }
  return new RampartError('RAMPART_RATE_LIMITED', `Too many requests; retry after ${seconds} second${seconds === 1 ? '' : 's'}.`, {
    headers: { 'retry-after': String(seconds) },
    reason: `policy ${refusedBy.map((sh) => sh.policy.name).join(', ')} exceeded by ${refusedBy.map((sh) => sh.part).join(', ')}`,
  });
}

/** `RateLimit-Policy` and `RateLimit` items for the rate and quota rules (concurrency has no draft field). */
function writeHeaders(ctx: RequestContext, shares: readonly Share[], d: Decision): void {
  let policies = '';
  let limits = '';
  let i = 0;
  for (const sh of shares) {
    for (const rule of sh.rules) {
      const state = d.states[i++]!;
      let label: string;
      let item: string;
      if (rule.kind === 'rate') {
        label = sh.policy.name;
        item = sh.policy.rateItem!;
      } else if (rule.kind === 'quota') {
        const { start, end } = periodBounds(rule.period, Date.now());
        label = `${sh.policy.name}-${rule.period}`;
        item = `"${label}";q=${sh.policy.o.quota!.limit};w=${(end - start) / 1000}`;
      } else continue;
      const limit = `"${label}";r=${state.remaining};t=${Math.ceil(state.resetMs / 1000)}`;
      policies = policies === '' ? item : `${policies}, ${item}`;
      limits = limits === '' ? limit : `${limits}, ${limit}`;
    }
  }
  if (policies !== '') {
    appendHeader(ctx, 'ratelimit-policy', policies);
    appendHeader(ctx, 'ratelimit', limits);
  }
}
