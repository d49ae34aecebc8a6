import { z } from 'zod';
import type { RequestContext } from '../../core/context.js';
import { RampartError } from '../../core/errors.js';
import { CountersUnavailableError, type LockoutPolicy } from '../../stores/counter-store.js';
import { defineStage } from '../definition.js';
import { retryAfterSeconds } from './headers.js';
import { clientNetwork } from './partition.js';

const lockoutOptions = z
  .object({
    type: z.literal('lockout'),
    /** Count failures per client address, per targeted principal, or both. */
    by: z.array(z.enum(['ip', 'principal'])).min(1).max(2).default(['ip', 'principal']),
    /** Failed authentications (final status 401) within `windowSeconds` that start a lockout. */
    threshold: z.number().int().min(1).max(1000).default(5),
    /** Window for counting failures, seconds (15 minutes). */
    windowSeconds: z.number().int().min(1).default(900),
    /** First lockout, seconds; each further one doubles, up to `maxSeconds`. */
    baseSeconds: z.number().int().min(1).default(60),
    /** Longest lockout, seconds (1 hour). */
    maxSeconds: z.number().int().min(1).default(3600),
    /** The backoff level is forgotten after this long without a lockout, seconds (1 day). */
    resetSeconds: z.number().int().min(1).default(86_400),
    /** When the counters backend is down: refuse with 503 (`fail-closed`) or skip the check (`fail-open`). */
    failMode: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
    /** IPv6 clients are counted per network of this many bits. */
    ipv6Prefix: z.number().int().min(16).max(128).default(64),
  })
  .strict()
  .refine((o) => o.maxSeconds >= o.baseSeconds, { message: 'maxSeconds must be at least baseSeconds', path: ['maxSeconds'] });

/** `lockout:ip:<network>` and `lockout:principal:<name>`: the keys the admin API shows and clears. */
export function lockoutKeys(ctx: RequestContext, by: readonly ('ip' | 'principal')[], ipv6Prefix: number): string[] {
  const keys: string[] = [];
  if (by.includes('ip')) keys.push(`lockout:ip:${clientNetwork(ctx.clientIp, ipv6Prefix)}`);
  const principal = by.includes('principal') ? (ctx.attemptedPrincipal ?? basicUser(ctx)) : undefined;
  if (principal !== undefined && principal !== '') keys.push(`lockout:principal:${encodeURIComponent(principal)}`);
  return keys;
}

/**
 * The principal a request names before any credential is checked: the HTTP Basic user id (as in
 * OAuth `client_secret_basic`). Checking it in the guard phase refuses a locked principal without
 * verifying the credential, so the answer does not tell a correct guess from a wrong one.
 */
function basicUser(ctx: RequestContext): string | undefined {
  const auth = ctx.req.headers.authorization;
  if (auth === undefined || auth.length > 4096 || !/^basic /i.test(auth)) return undefined;
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon <= 0 ? undefined : decoded.slice(0, Math.min(colon, 256));
}

/**
 * Brute-force protection: failed authentications (final status 401) are counted per client address
 * and per targeted principal (`ctx.attemptedPrincipal`, or the Basic user id); past `threshold`
 * within `windowSeconds` the address or principal is refused with 429 for `baseSeconds`, doubling
 * on each further lockout. Checked in the guard phase, before any credential is verified.
 * Operators see and clear lockouts through `/admin/v1/limits/lockouts`.
 *
 * @example
 *   stages: [{ type: lockout, threshold: 5, windowSeconds: 900, baseSeconds: 60, maxSeconds: 3600 }]
 */
export const lockoutStage = defineStage({
  type: 'lockout',
  phase: 'guard',
  options: lockoutOptions,
  create(o, deps) {
    const { counters, logger, emit } = deps.services;
    const policy: LockoutPolicy = {
      threshold: o.threshold,
      windowMs: o.windowSeconds * 1000,
      baseMs: o.baseSeconds * 1000,
      maxMs: o.maxSeconds * 1000,
      resetMs: o.resetSeconds * 1000,
    };
    return {
      name: 'lockout',
      phase: 'guard',
      async handle(ctx) {
        let until: number;
        try {
          until = await counters.lockedUntil(lockoutKeys(ctx, o.by, o.ipv6Prefix));
        } catch (err) {
          if (!(err instanceof CountersUnavailableError)) throw err;
          if (o.failMode === 'fail-open') return;
          throw new RampartError('RAMPART_RATE_LIMIT_UNAVAILABLE', 'Sign-in protection cannot be checked right now; retry shortly.', {
            headers: { 'retry-after': '5' },
            reason: `lockout: ${err.message} (fail-closed)`,
          });
        }
        if (until === 0) return;
        const seconds = retryAfterSeconds(until - Date.now());
        throw new RampartError('RAMPART_AUTH_LOCKED_OUT', `Too many failed authentications; retry after ${seconds} second${seconds === 1 ? '' : 's'}.`, {
          headers: { 'retry-after': String(seconds) },
          reason: 'locked out after repeated authentication failures',
        });
      },
      onComplete(ctx) {
        if (ctx.status !== 401) return;
        for (const key of lockoutKeys(ctx, o.by, o.ipv6Prefix)) {
          counters.recordFailure(key, policy).then(
            (state) => {
              if (!state.started) return;
              emit({
                type: 'auth.lockout',
                severity: 'high',
                source: 'lockout',
                reason: `${key} locked out (level ${state.level})`,
                requestId: ctx.id,
                clientIp: ctx.clientIp,
                route: ctx.route?.id,
                data: { key, level: state.level, lockedUntil: state.lockedUntil },
                time: Date.now(),
              });
            },
            (err: unknown) => logger.warn({ err: (err as Error).message, key }, 'could not record an authentication failure'),
          );
        }
      },
    };
  },
});
