/**
 * `rampart policy explain`: the gateway's own path guard, router and {@link decide} run over a
 * config for one identity, method and path, without a running gateway.
 */
import type { RampartConfig, RouteConfig } from '../config/schema.js';
import { RampartError } from '../core/errors.js';
import type { Identity } from '../core/identity.js';
import { parseTarget } from '../server/hygiene.js';
import { Router, type CompiledRoute } from '../server/router.js';
import { STAGES_BY_TYPE } from '../stages/registry.js';
import type { AuthorizeOptions } from './config.js';
import { compileAuthorization, compileRoutePolicy, decide, grantsOf, hidingRules, type RoutePolicy } from './policy.js';

/** What `policy explain` reports. */
export interface Explanation {
  readonly decision: 'allow' | 'deny';
  /** HTTP status the request would get from authorization (200 = passed on to the upstream). */
  readonly status: number;
  readonly code?: string;
  /** Rule id that decided (`routes.users.objects.own-profile`, `adminOnly.delete`, `path-guard`, `router`). */
  readonly rule: string;
  readonly reason: string;
  readonly route?: { readonly id: string; readonly path: string };
  readonly identity: { readonly consumer: string; readonly roles: readonly string[]; readonly scopes: readonly string[]; readonly tenant?: string };
  /** Permissions the identity's roles grant. */
  readonly grants: readonly string[];
  /** Rules still checked against the request body (body bindings, read-only fields). */
  readonly bodyRules: readonly string[];
  /** Response fields removed for this identity. */
  readonly hiddenFields: readonly string[];
}

const authorizeOf = (stages: readonly { type: string }[]): AuthorizeOptions | undefined =>
  stages.find((s): s is AuthorizeOptions => s.type === 'authorize');

function routePolicy(config: RampartConfig, route: RouteConfig): RoutePolicy {
  const all = [...config.stages, ...route.stages];
  const options = authorizeOf(all);
  if (options !== undefined) return compileRoutePolicy(route.id, options);
  const authenticates = all.some((s) => STAGES_BY_TYPE.get(s.type)?.phase === 'authenticate');
  return compileRoutePolicy(route.id, authenticates ? 'deny' : 'public');
}

/**
 * Explains the decision for one request. `target` is the request target as a client sends it
 * (path and optional query, percent-encoded): path tricks are judged exactly as the gateway does.
 *
 * @example
 *   explain(config, alice, 'GET', '/users/bob') // { decision: 'deny', rule: 'routes.users.objects.own-profile', … }
 */
export function explain(config: RampartConfig, identity: Identity, method: string, target: string, host = ''): Explanation {
  const authz = compileAuthorization(config.authorization);
  const grants = grantsOf(authz, identity).list;
  const who = { consumer: identity.consumer, roles: identity.roles, scopes: identity.scopes, ...(identity.tenant === undefined ? {} : { tenant: identity.tenant }) };
  const base = { identity: who, grants, bodyRules: [], hiddenFields: [] };
  let path: string;
  let query: string;
  try {
    ({ path, query } = parseTarget(target));
  } catch (err) {
    return { ...base, decision: 'deny', ...refusal(err), rule: 'path-guard' };
  }
  const router = new Router(config.routes.map((r) => stubRoute(config, r)));
  let match;
  try {
    match = router.match(host, path, method);
  } catch (err) {
    return { ...base, decision: 'deny', ...refusal(err), rule: 'router' };
  }
  const route = match.route.config;
  const policy = routePolicy(config, route);
  const decision = decide(authz, policy, { method, path, params: match.params, query, headers: {} }, identity);
  const routeInfo = { id: route.id, path: route.path };
  if (!decision.allow) return { ...base, decision: 'deny', status: 403, code: 'RAMPART_FORBIDDEN', rule: decision.rule, reason: decision.reason, route: routeInfo };
  const bodyRules = [
    ...policy.bindings.filter((b) => b.in === 'body' && (b.methods === undefined || b.methods.has(method))).map((b) => b.id),
    ...policy.properties.filter((p) => p.writeDeny).map((p) => p.id),
  ];
  return {
    ...base,
    decision: 'allow',
    status: 200,
    rule: decision.rule,
    reason: decision.reason,
    route: routeInfo,
    bodyRules: policy.needsBody(method) ? bodyRules : [],
    hiddenFields: hidingRules(authz, policy, identity).flatMap((r) => r.names),
  };
}

function refusal(err: unknown): { status: number; code: string; reason: string } {
  if (err instanceof RampartError) return { status: err.status, code: err.code, reason: err.reason };
  throw err;
}

/** The router needs compiled routes; explain only matches, so no stages or upstreams. */
function stubRoute(config: RampartConfig, route: RouteConfig): CompiledRoute {
  return { id: route.id, config: route, upstreamName: route.upstream, upstream: config.upstreams[route.upstream]!, stages: [], responseStages: [], maxBodyBytes: 0, authenticateEnd: -1, challenge: '' };
}

/** The text form printed by `rampart policy explain`. */
export function formatExplanation(e: Explanation): string {
  const list = (xs: readonly string[]): string => (xs.length === 0 ? '-' : xs.join(', '));
  const lines = [
    `decision  ${e.decision.toUpperCase()}${e.decision === 'deny' ? ` (${e.status} ${e.code})` : ''}`,
    `rule      ${e.rule}`,
    `reason    ${e.reason}`,
    `route     ${e.route === undefined ? '-' : `${e.route.id} (${e.route.path})`}`,
    `identity  ${e.identity.consumer}  roles=${list(e.identity.roles)}  scopes=${list(e.identity.scopes)}  tenant=${e.identity.tenant ?? '-'}`,
    `grants    ${list(e.grants)}`,
  ];
  if (e.bodyRules.length > 0) lines.push(`body      a JSON body is also checked against ${list(e.bodyRules)}`);
  if (e.hiddenFields.length > 0) lines.push(`response  fields removed: ${list(e.hiddenFields)}`);
  return `${lines.join('\n')}\n`;
}
