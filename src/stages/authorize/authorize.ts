import type { RequestContext } from '../../core/context.js';
import { RampartError } from '../../core/errors.js';
import type { Stage } from '../../core/stage.js';
import type { RampartConfig, RouteConfig } from '../../config/schema.js';
import { authorizeOptionsSchema } from '../../authz/config.js';
import { parseJsonBody, removeField } from '../../authz/json.js';
import {
  compileAuthorization,
  compileRoutePolicy,
  decide,
  decideBody,
  hidingRules,
  type CompiledAuthorization,
  type Decision,
  type RoutePolicy,
} from '../../authz/policy.js';
import type { RoleSource } from '../../authz/store-roles.js';
import { defineStage } from '../definition.js';

/** Headers (and the `_method` query parameter) that frameworks honour to change the method. */
const OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;
const OVERRIDABLE = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The 403 body says nothing about the policy; the rule and reason go to the event and the log. */
const FORBIDDEN_DETAIL = 'You are not allowed to perform this action.';

function refuse(ctx: RequestContext, decision: Decision): never {
  ctx.decidedBy = 'authorize';
  ctx.emit({ type: 'authz.denied', severity: 'medium', source: 'authorize', code: 'RAMPART_FORBIDDEN', reason: decision.reason, data: { rule: decision.rule } });
  throw new RampartError('RAMPART_FORBIDDEN', FORBIDDEN_DETAIL, { reason: `${decision.rule}: ${decision.reason}` });
}

/**
 * The method to authorize: the request's own, or (only when `allowMethodOverride` is set) the one
 * an override header or `_method` names. Refused otherwise, since an upstream framework may honour
 * the override after the gateway authorized the outer method.
 */
function effectiveMethod(authz: CompiledAuthorization, ctx: RequestContext): string {
  let override: string | undefined;
  let source: string | undefined;
  for (const name of OVERRIDE_HEADERS) {
    const v = ctx.req.headers[name];
    if (v !== undefined) {
      override = Array.isArray(v) ? v.join(',') : v;
      source = name;
    }
  }
  if (override === undefined && ctx.query.toLowerCase().includes('method')) {
    for (const pair of ctx.query.split('&')) {
      const eq = pair.indexOf('=');
      if (safeDecode(eq === -1 ? pair : pair.slice(0, eq)).toLowerCase() !== '_method') continue;
      override = eq === -1 ? '' : safeDecode(pair.slice(eq + 1));
      source = '_method';
    }
  }
  if (override === undefined) return ctx.method;
  const method = override.trim().toUpperCase();
  if (!authz.allowMethodOverride || !OVERRIDABLE.has(method)) {
    const rule = 'authorization.allowMethodOverride';
    ctx.decidedBy = 'authorize';
    ctx.emit({ type: 'authz.denied', severity: 'medium', source: 'authorize', code: 'RAMPART_METHOD_OVERRIDE', reason: `method override via ${source}`, data: { rule } });
    throw new RampartError('RAMPART_METHOD_OVERRIDE', 'Method override is not accepted here.', { reason: `${rule}: method override via ${source}` });
  }
  return method;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Builds the request-and-response stage enforcing `policy`. Responses are filtered only for
 * callers some read-denied property applies to; everyone else streams as usual.
 */
function createAuthorizer(authz: CompiledAuthorization, policy: RoutePolicy): Stage {
  const hidden = new WeakMap<RequestContext, (readonly string[])[]>();
  const stage: Stage = {
    name: 'authorize',
    phase: 'authorize',
    handle(ctx) {
      const method = effectiveMethod(authz, ctx);
      const decision = decide(authz, policy, { method, path: ctx.path, params: ctx.params, query: ctx.query, headers: ctx.req.headers }, ctx.identity);
      if (!decision.allow) refuse(ctx, decision);
      const identity = ctx.identity;
      if (identity === undefined) return undefined;
      const fields = hidingRules(authz, policy, identity).flatMap((r) => r.fields);
      if (fields.length > 0) {
        hidden.set(ctx, fields);
        // Compressed bodies could not be filtered: ask for identity encoding.
        ctx.upstreamHeaders['accept-encoding'] = 'identity';
      }
      if (!ctx.hasBody || !policy.needsBody(method)) return undefined;
      return ctx.readBody().then((body) => {
        const denied = decideBody(authz, policy, method, identity, parseJsonBody(body));
        if (denied !== undefined) refuse(ctx, denied);
      });
    },
  };
  if (!policy.filtersResponses) return stage;
  return {
    ...stage,
    onResponseHead(ctx, head) {
      if (!hidden.has(ctx) || ctx.method === 'HEAD' || head.statusCode === 204 || head.statusCode === 304) return;
      const type = head.headers['content-type'];
      // Without a content type, a client may still parse JSON: filter unless it is declared as something else.
      if (type === undefined || (typeof type === 'string' && JSON_TYPE.test(type))) ctx.responseBuffered = true;
      else hidden.delete(ctx);
    },
    onResponseBody(ctx, head, body) {
      const fields = hidden.get(ctx);
      if (fields === undefined) return body;
      const encoding = head.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') {
        throw new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream response could not be processed.', { reason: `cannot filter a ${String(encoding)}-encoded response` });
      }
      if (body.length === 0) return body;
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch {
        if (head.headers['content-type'] === undefined) return body;
        throw new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream response could not be processed.', { reason: 'response declared JSON but did not parse; fields could not be filtered' });
      }
      let removed = false;
      for (const f of fields) removed = removeField(value, f) || removed;
      if (!removed) return body;
      // The representation changed: validators of the upstream's version no longer describe it.
      delete head.headers['etag'];
      delete head.headers['content-md5'];
      delete head.headers['digest'];
      return Buffer.from(JSON.stringify(value));
    },
  };
}

/**
 * Authorization for one route: per-method permissions and scopes, object-level bindings (BOLA),
 * property-level rules (mass assignment, response field stripping), after the function-level rules
 * of the top-level `authorization:` section. Everything compiles when the config loads.
 *
 * @example
 *   stages:
 *     - type: authorize
 *       rules: [{ methods: [GET], permissions: [users:read] }]
 *       objects: [{ in: path, name: userId, equals: identity.consumer, bypass: users:any }]
 *       properties: [{ fields: [role], write: deny }]
 */
export const authorizeStage = defineStage({
  type: 'authorize',
  phase: 'authorize',
  options: authorizeOptionsSchema,
  create(options, { config, route, services }): Stage {
    return createAuthorizer(compileAuthorization(config.authorization, services.roles), compileRoutePolicy(route?.id ?? '*', options));
  },
});

/**
 * The stage a route gets when it lists no authorize-phase stage: deny by default if it
 * authenticates, otherwise only the function-level rules and the method-override refusal.
 * Undefined when there is nothing to enforce. `storeRoles`: roles defined through the admin API.
 *
 * @example
 *   const implicit = implicitAuthorizeStage(config, route, true); // refuses every request (403)
 */
export function implicitAuthorizeStage(config: RampartConfig, route: RouteConfig, authenticates: boolean, storeRoles?: RoleSource): Stage | undefined {
  const authz = compileAuthorization(config.authorization, storeRoles);
  if (!authenticates && authz.functionRules.length === 0 && authz.allowMethodOverride) return undefined;
  return createAuthorizer(authz, compileRoutePolicy(route.id, authenticates ? 'deny' : 'public'));
}
