import { z } from 'zod';
import { RampartError } from '../../core/errors.js';
import type { RequestContext } from '../../core/context.js';
import type { Identity } from '../../core/identity.js';
import type { KeyCheck } from '../../keys/key-service.js';
import type { ApiKeyRecord, Consumer } from '../../stores/contracts.js';
import { defineStage } from '../definition.js';

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const apiKeyOptions = z
  .object({
    type: z.literal('api_key'),
    /** Extra header carrying the key (e.g. `X-API-Key`); `Authorization: Bearer rk_…` always works. */
    header: z.string().regex(HTTP_TOKEN).optional(),
    /** Query parameter carrying the key. Off unless set: URLs leak into logs and browser history. */
    queryParam: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
    /** Realm in the `WWW-Authenticate` challenge. */
    realm: z.string().regex(/^[\x20-\x7e]{1,64}$/).refine((r) => !r.includes('"') && !r.includes('\\'), 'no quotes or backslashes').default('rampart'),
    /**
     * Pass the verified key on to the upstream. Off by default: the upstream receives the identity
     * (`X-Rampart-Consumer`…), and a key it never sees cannot leak from its logs or be replayed by it.
     */
    forwardKey: z.boolean().default(false),
  })
  .strict();

/** Same answer whatever failed (no oracle): the reason only goes to the event and the log. */
const INVALID_DETAIL = 'The API key is not valid.';

/** `query` without every `name=…` pair (names compared decoded, as URLSearchParams reads them); other pairs keep their bytes. */
function withoutParam(query: string, name: string): string {
  return query
    .split('&')
    .filter((pair) => {
      const eq = pair.indexOf('=');
      const raw = eq === -1 ? pair : pair.slice(0, eq);
      return new URLSearchParams(`${raw}=`).keys().next().value !== name;
    })
    .join('&');
}

function narrow(own: readonly string[], byKey: readonly string[] | null): readonly string[] {
  return byKey === null ? own : byKey.filter((s) => own.includes(s));
}

/**
 * Authenticates with an API key (`rk_live_…`): `Authorization: Bearer`, an optional header, or
 * (explicitly enabled) a query parameter. A Bearer value that is not an `rk_` key is left for
 * other methods (any-of); a present but malformed, unknown, revoked, expired or suspended key is
 * refused with one uniform 401. The checksum is checked before any store lookup.
 *
 * @example
 *   stages: [{ type: api_key, header: X-API-Key }]
 */
export const apiKeyStage = defineStage({
  type: 'api_key',
  phase: 'authenticate',
  options: apiKeyOptions,
  create(options, { services, route }) {
    const keys = services.keys;
    const header = options.header?.toLowerCase();
    const challenge = `Bearer realm="${options.realm}"`;
    const failure = `${challenge}, error="invalid_token"`;
    if (options.queryParam !== undefined) {
      services.logger.warn({ route: route?.id, param: options.queryParam }, 'api_key accepts keys in the query string: they leak into logs, proxies and browser history');
    }
    const identities = new WeakMap<ApiKeyRecord, { consumer: Consumer; identity: Identity }>();

    /** Where the key was found: the header field to hide, or the query parameter. */
    type Found = { key: string; header: string } | { key: string; param: string };
    const extract = (ctx: RequestContext): Found | undefined => {
      if (header !== undefined) {
        const v = ctx.req.headers[header];
        if (typeof v === 'string') return { key: v.trim(), header };
      }
      const auth = ctx.req.headers.authorization;
      if (auth !== undefined && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') {
        const token = auth.slice(7).trim();
        // Bearer tokens that are not ours (JWTs, OAuth tokens) belong to other methods.
        if (token.startsWith('rk_')) return { key: token, header: 'authorization' };
      }
      if (options.queryParam !== undefined && ctx.query !== '') {
        const v = new URLSearchParams(ctx.query).get(options.queryParam);
        if (v !== null) return { key: v, param: options.queryParam };
      }
      return undefined;
    };

    /** Keeps the verified key from the upstream request (unless `forwardKey`). */
    const hide = (ctx: RequestContext, found: Found): void => {
      if (options.forwardKey) return;
      if ('header' in found) (ctx.hiddenHeaders ??= []).push(found.header);
      else ctx.upstreamQuery = withoutParam(ctx.upstreamQuery ?? ctx.query, found.param);
    };

    const identityOf = (key: ApiKeyRecord, consumer: Consumer): Identity => {
      const cached = identities.get(key);
      if (cached !== undefined && cached.consumer === consumer) return cached.identity;
      const identity: Identity = {
        consumer: consumer.name,
        consumerId: consumer.id,
        roles: narrow(consumer.roles, key.roles),
        scopes: narrow(consumer.scopes, key.scopes),
        ...(consumer.tenant === null ? {} : { tenant: consumer.tenant }),
        method: 'api_key',
        credentialId: key.prefix,
      };
      identities.set(key, { consumer, identity });
      return identity;
    };

    const apply = (ctx: RequestContext, result: KeyCheck): void => {
      if (result.ok) {
        ctx.identity = identityOf(result.key, result.consumer);
        ctx.attemptedPrincipal = result.consumer.name;
        return;
      }
      if (result.principal !== undefined) ctx.attemptedPrincipal = result.principal;
      ctx.emit({
        type: 'auth.failure',
        severity: result.malformed === true ? 'low' : 'medium',
        source: 'api_key',
        code: 'RAMPART_AUTH_INVALID_KEY',
        reason: result.reason,
        ...(result.principal === undefined ? {} : { data: { principal: result.principal } }),
      });
      throw new RampartError('RAMPART_AUTH_INVALID_KEY', INVALID_DETAIL, { headers: { 'www-authenticate': failure }, reason: result.reason });
    };

    const unavailable = (err: unknown): never => {
      throw new RampartError('RAMPART_STORE_UNAVAILABLE', 'Credentials cannot be verified right now; try again shortly.', {
        headers: { 'retry-after': '1' },
        reason: `key store unavailable: ${(err as Error).message}`,
      });
    };

    return {
      name: 'api_key',
      phase: 'authenticate',
      challenge,
      handle(ctx) {
        const found = extract(ctx);
        if (found === undefined) return undefined;
        hide(ctx, found);
        const result = keys.check(found.key);
        if (!(result instanceof Promise)) return apply(ctx, result);
        return result.then((r) => apply(ctx, r), unavailable);
      },
    };
  },
});
