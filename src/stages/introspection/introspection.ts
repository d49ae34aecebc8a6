import { createHash } from 'node:crypto';
import { z } from 'zod';
import { request } from 'undici';
import type { RequestContext } from '../../core/context.js';
import type { Identity } from '../../core/identity.js';
import { RampartError } from '../../core/errors.js';
import { authFailure } from '../../auth/failure.js';
import { bearerToken, claimMappingSchema, identityFromClaims } from '../../auth/claims.js';
import { defineStage } from '../definition.js';
import { idpUrl } from '../jwt/options.js';

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const introspectionOptions = z
  .object({
    type: z.literal('introspection'),
    /** The IdP's RFC 7662 endpoint. */
    url: idpUrl,
    /** Credentials of the gateway at the IdP (use `${env:NAME}` for the secret). */
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    /** How the gateway authenticates to the IdP. */
    clientAuth: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    /** When set, the introspection response's `iss` must be one of these. */
    issuer: stringOrList.optional(),
    /** When set, the response's `aud` must name one of these. */
    audience: stringOrList.optional(),
    /** Longest time an active answer is reused, seconds; never past the token's `exp`. */
    maxCacheSeconds: z.number().int().min(0).max(3600).default(60),
    /** Time an inactive answer is reused, seconds (spares the IdP from floods of bad tokens). */
    negativeCacheSeconds: z.number().int().min(0).max(300).default(10),
    /** Entries kept in the cache. */
    cacheEntries: z.number().int().min(0).max(1_000_000).default(10_000),
    /** IdP request timeout, milliseconds. */
    timeoutMs: z.number().int().min(100).max(60_000).default(3_000),
    /** Largest token accepted, bytes. */
    maxTokenBytes: z.number().int().min(16).max(65_536).default(4_096),
    realm: z.string().regex(/^[^"\\]*$/).default('rampart'),
    claims: claimMappingSchema.default(claimMappingSchema.parse({})),
  })
  .strict();

/** A cached verdict: an identity, or the reason the token is not active. */
interface Verdict {
  readonly identity: Identity | undefined;
  readonly reason: string;
  /** Milliseconds since the epoch. */
  readonly until: number;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

function names(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * `introspection`: validates opaque bearer tokens of an external IdP with RFC 7662 token
 * introspection. Answers are cached (by token hash) no longer than `maxCacheSeconds` and never past
 * the token's `exp`; an IdP that does not answer makes the request fail closed with 503.
 *
 * @example
 *   stages:
 *     - type: introspection
 *       url: https://idp.example.com/oauth2/introspect
 *       clientId: rampart
 *       clientSecret: ${env:IDP_INTROSPECTION_SECRET}
 */
export const introspectionStage = defineStage({
  type: 'introspection',
  phase: 'authenticate',
  options: introspectionOptions,
  create(options) {
    const now = Date.now;
    const challenge = `Bearer realm="${options.realm}"`;
    const cache = new Map<string, Verdict>();
    const inflight = new Map<string, Promise<Verdict>>();
    const issuers = options.issuer === undefined ? undefined : new Set(names(options.issuer));
    const audiences = options.audience === undefined ? undefined : names(options.audience);
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;

    const remember = (key: string, verdict: Verdict): Verdict => {
      if (options.cacheEntries > 0 && verdict.until > now()) {
        if (cache.size >= options.cacheEntries) cache.delete(cache.keys().next().value!);
        cache.set(key, verdict);
      }
      return verdict;
    };

    const judge = (claims: Record<string, unknown>): Verdict => {
      const t = now();
      const inactive = (reason: string): Verdict => ({ identity: undefined, reason, until: t + options.negativeCacheSeconds * 1000 });
      if (claims.active !== true) return inactive('IdP reports the token inactive');
      const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
      if (exp !== undefined && exp <= t) return inactive('token expired');
      if (typeof claims.nbf === 'number' && claims.nbf * 1000 > t) return { identity: undefined, reason: 'token not yet valid', until: t };
      if (issuers !== undefined && (typeof claims.iss !== 'string' || !issuers.has(claims.iss))) return inactive('unexpected issuer');
      if (audiences !== undefined && !names(claims.aud).some((a) => audiences.includes(a))) return inactive('unexpected audience');
      const { active: _active, ...rest } = claims;
      const identity = identityFromClaims(rest, options.claims, 'oauth2', typeof claims.jti === 'string' ? claims.jti : undefined);
      if (typeof identity === 'string') return inactive(identity);
      const until = Math.min(t + options.maxCacheSeconds * 1000, exp ?? Number.POSITIVE_INFINITY);
      return { identity: Object.freeze(identity), reason: '', until };
    };

    const introspect = async (token: string): Promise<Verdict> => {
      const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if (options.clientAuth === 'client_secret_basic') headers.authorization = basic;
      else {
        form.set('client_id', options.clientId);
        form.set('client_secret', options.clientSecret);
      }
      const res = await request(options.url, {
        method: 'POST',
        headers,
        body: form.toString(),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`introspection endpoint answered ${res.statusCode}`);
      }
      if (Number(res.headers['content-length'] ?? 0) > MAX_RESPONSE_BYTES) {
        res.body.destroy();
        throw new Error('introspection response too large');
      }
      const text = await res.body.text();
      const claims: unknown = JSON.parse(text);
      if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('introspection response is not a JSON object');
      return judge(claims as Record<string, unknown>);
    };

    const admit = (ctx: RequestContext, verdict: Verdict): void => {
      if (verdict.identity === undefined) throw authFailure(ctx, { source: 'introspection', code: 'RAMPART_AUTH_INVALID_TOKEN', reason: verdict.reason, challenge });
      ctx.identity = verdict.identity;
    };

    return {
      name: 'introspection',
      phase: 'authenticate',
      challenge,
      handle(ctx) {
        const token = bearerToken(ctx.req.headers.authorization);
        if (token === undefined) return;
        if (token.length > options.maxTokenBytes) {
          throw authFailure(ctx, { source: 'introspection', code: 'RAMPART_AUTH_INVALID_TOKEN', reason: `token exceeds maxTokenBytes ${options.maxTokenBytes}`, challenge });
        }
        const key = createHash('sha256').update(token).digest('base64');
        const cached = cache.get(key);
        if (cached !== undefined) {
          if (cached.until > now()) return admit(ctx, cached);
          cache.delete(key);
        }
        let pending = inflight.get(key);
        if (pending === undefined) {
          // Concurrent requests with one token share one IdP call.
          pending = introspect(token).then((v) => remember(key, v)).finally(() => inflight.delete(key));
          inflight.set(key, pending);
        }
        return pending.then(
          (verdict) => admit(ctx, verdict),
          (err: unknown) => {
            if (err instanceof RampartError) throw err;
            ctx.emit({ type: 'auth.unavailable', severity: 'medium', source: 'introspection', reason: (err as Error).message });
            throw new RampartError('RAMPART_AUTH_UNAVAILABLE', 'The token could not be checked right now.', {
              headers: { 'retry-after': '5' },
              reason: `introspection failed: ${(err as Error).message}`,
            });
          },
        );
      },
      close() {
        cache.clear();
      },
    };
  },
});
