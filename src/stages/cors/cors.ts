import { z } from 'zod';
import { RampartError } from '../../core/errors.js';
import { defineStage } from '../definition.js';

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const corsOptions = z
  .object({
    type: z.literal('cors'),
    /** Exact origins (`https://app.example.com`), or `*` alone for public, credential-less APIs. */
    origins: z.array(z.string().refine((o) => o === '*' || isOrigin(o), 'must be an origin like https://app.example.com or *')).min(1),
    /** Methods allowed cross-origin. */
    methods: z.array(z.string().regex(HTTP_TOKEN)).default(['GET', 'HEAD', 'POST']),
    /** Request headers allowed cross-origin (case-insensitive). */
    headers: z.array(z.string().regex(HTTP_TOKEN)).default(['Content-Type', 'Authorization']),
    /** Response headers exposed to scripts. */
    exposeHeaders: z.array(z.string().regex(HTTP_TOKEN)).default([]),
    /** Allow cookies/credentials cross-origin. Never combined with `*`. */
    credentials: z.boolean().default(false),
    /** Preflight cache lifetime, seconds. */
    maxAgeSeconds: z.number().int().min(0).max(86_400).default(600),
  })
  .strict()
  .refine((o) => !(o.credentials && o.origins.includes('*')), {
    message: 'credentials: true cannot be combined with origin "*" (that would let any site read authenticated responses)',
    path: ['credentials'],
  })
  .refine((o) => !o.origins.includes('*') || o.origins.length === 1, { message: '"*" must be the only origin', path: ['origins'] });

function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === value;
  } catch {
    return false;
  }
}

/**
 * Strict CORS: exact origin allowlist (never a reflected wildcard), preflight answered at the edge,
 * requests from other origins refused with 403.
 *
 * @example
 *   stages: [{ type: cors, origins: [https://app.example.com], credentials: true }]
 */
export const corsStage = defineStage({
  type: 'cors',
  phase: 'guard',
  options: corsOptions,
  create(options) {
    const any = options.origins[0] === '*';
    const origins = new Set(options.origins);
    const methods = new Set(options.methods.map((m) => m.toUpperCase()));
    const headers = new Set(options.headers.map((h) => h.toLowerCase()));
    const allowMethods = [...methods].join(', ');
    const expose = options.exposeHeaders.join(', ');
    const deny = (detail: string, reason: string): RampartError =>
      new RampartError('RAMPART_CORS_REJECTED', detail, { reason });
    return {
      name: 'cors',
      phase: 'guard',
      handle(ctx) {
        const origin = ctx.req.headers.origin;
        if (origin === undefined) return;
        if (!any && !origins.has(origin)) throw deny('This origin may not call this API.', `origin ${JSON.stringify(origin).slice(0, 200)} not allowed`);
        const allowOrigin = any ? '*' : origin;
        const preflightMethod = ctx.req.headers['access-control-request-method'];
        if (ctx.method === 'OPTIONS' && preflightMethod !== undefined) {
          if (!methods.has(preflightMethod.toUpperCase())) throw deny('This method may not be used cross-origin.', `preflight method ${preflightMethod.slice(0, 40)} not allowed`);
          const requested = (ctx.req.headers['access-control-request-headers'] ?? '')
            .split(',')
            .map((h) => h.trim().toLowerCase())
            .filter((h) => h !== '');
          const refused = requested.find((h) => !headers.has(h));
          if (refused !== undefined) throw deny('A requested header may not be sent cross-origin.', `preflight header ${refused.slice(0, 60)} not allowed`);
          const reply: Record<string, string> = {
            'access-control-allow-origin': allowOrigin,
            'access-control-allow-methods': allowMethods,
            'access-control-max-age': String(options.maxAgeSeconds),
            vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
          };
          if (requested.length > 0) reply['access-control-allow-headers'] = requested.join(', ');
          if (options.credentials) reply['access-control-allow-credentials'] = 'true';
          ctx.respond(204, '', reply);
          return;
        }
        if (!methods.has(ctx.method)) throw deny('This method may not be used cross-origin.', `method ${ctx.method} not allowed cross-origin`);
        ctx.responseHeaders['access-control-allow-origin'] = allowOrigin;
        if (!any) ctx.responseHeaders['vary'] = 'Origin';
        if (options.credentials) ctx.responseHeaders['access-control-allow-credentials'] = 'true';
        if (expose !== '') ctx.responseHeaders['access-control-expose-headers'] = expose;
      },
    };
  },
});
