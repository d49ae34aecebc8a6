/**
 * The authorization decision, as pure functions over policies compiled once per config version.
 * The `authorize` stage and `rampart policy explain` call the same {@link decide}, so what the
 * command prints is what the gateway does.
 *
 * Order: function-level rules (`authorization.adminOnly`) → the route's mode (deny by default,
 * public, any-authenticated, per-method rules) → object bindings on path, query and headers. Body
 * bindings and write-denied properties need the body: {@link decideBody} runs after it is read.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity } from '../core/identity.js';
import type { AuthorizationConfig, AuthorizeOptions } from './config.js';
import { hasField, valuesAt } from './json.js';
import { NO_GRANTS, RoleTable, type Grants } from './permissions.js';
import type { RoleSource } from './store-roles.js';

/** What the decision looks at: the effective method and the decoded, routed request. */
export interface AuthzRequest {
  readonly method: string;
  /** Decoded path (as routed). */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  /** Raw query string without `?`. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
}

/** An allow or a deny, with the id of the rule that made it and a reason for operators. */
export interface Decision {
  readonly allow: boolean;
  readonly rule: string;
  readonly reason: string;
}

const allow = (rule: string, reason: string): Decision => ({ allow: true, rule, reason });
const deny = (rule: string, reason: string): Decision => ({ allow: false, rule, reason });

interface FunctionRule {
  readonly id: string;
  readonly methods: ReadonlySet<string> | undefined;
  readonly paths: readonly RegExp[] | undefined;
  readonly permission: string;
}

/** The top-level `authorization:` section, compiled. */
export interface CompiledAuthorization {
  readonly roles: RoleTable;
  readonly functionRules: readonly FunctionRule[];
  readonly allowMethodOverride: boolean;
}

/** Compiled sections, per role source (`CONFIG_ONLY` without one), per config section. */
const compiledSections = new WeakMap<object, WeakMap<AuthorizationConfig, CompiledAuthorization>>();
const CONFIG_ONLY = {};

/**
 * Compiles the `authorization:` section (once per config object and role source: every route's
 * stage shares it). `storeRoles` adds the roles defined through the admin API; config roles win.
 *
 * @example
 *   const authz = compileAuthorization({ roles: { admin: ['*'] }, adminOnly: [{ methods: ['DELETE'], permission: 'admin' }], allowMethodOverride: false });
 */
export function compileAuthorization(section: AuthorizationConfig, storeRoles?: RoleSource): CompiledAuthorization {
  let bySection = compiledSections.get(storeRoles ?? CONFIG_ONLY);
  if (bySection === undefined) {
    bySection = new WeakMap();
    compiledSections.set(storeRoles ?? CONFIG_ONLY, bySection);
  }
  let compiled = bySection.get(section);
  if (compiled === undefined) {
    compiled = {
      roles: new RoleTable(section.roles, storeRoles),
      functionRules: section.adminOnly.map((r, i) => ({
        id: `adminOnly.${r.id ?? i}`,
        methods: r.methods === undefined ? undefined : new Set(r.methods),
        paths: r.paths?.map(compileGlob),
        permission: r.permission,
      })),
      allowMethodOverride: section.allowMethodOverride,
    };
    bySection.set(section, compiled);
  }
  return compiled;
}

/** `/admin/**` → regex over normalised paths (lower case, no `;params`, no trailing `/`). */
function compileGlob(glob: string): RegExp {
  const segments = normalisePath(glob).split('/').slice(1);
  let source = '^';
  segments.forEach((seg, i) => {
    if (seg === '**' && i === segments.length - 1) source += '(?:/.*)?';
    else if (seg === '*') source += '/[^/]+';
    else if (seg !== '') source += `/${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  });
  return new RegExp(`${source === '^' ? '^/' : source}$`);
}

/**
 * The form function-level rules match against: lower case, `;params` dropped from every segment,
 * no trailing slash. Upstreams that ignore case or matrix parameters then cannot be reached past
 * a rule by `/ADMIN`, `/admin;x` or `/admin/`; matching wider only ever refuses more.
 */
export function normalisePath(path: string): string {
  const out = path.toLowerCase().replace(/;[^/]*/g, '');
  return out.length > 1 && out.endsWith('/') ? out.replace(/\/+$/, '') || '/' : out;
}

type Attribute = (identity: Identity) => unknown;

interface Binding {
  readonly id: string;
  readonly methods: ReadonlySet<string> | undefined;
  readonly in: 'path' | 'query' | 'header' | 'body';
  readonly name: string;
  readonly bodyPath: readonly string[];
  readonly equals: string;
  readonly attribute: Attribute;
  readonly integer: boolean;
  readonly bypass: string | undefined;
}

interface PropertyRule {
  readonly id: string;
  /** Field paths as configured. */
  readonly names: readonly string[];
  /** Lower-case segments, for matching. */
  readonly fields: readonly (readonly string[])[];
  readonly writeDeny: boolean;
  readonly readDeny: boolean;
  readonly roles: ReadonlySet<string> | undefined;
  readonly bypass: string | undefined;
}

interface MethodRule {
  readonly id: string;
  readonly methods: ReadonlySet<string> | undefined;
  readonly permissions: readonly string[];
  readonly scopes: readonly string[];
  /** The decision when the rule passes (built once: the allow path allocates nothing). */
  readonly allowed: Decision;
}

/**
 * How a route is authorized: `rules` / `any` from its `authorize` stage; `deny` when it
 * authenticates but has no authorize stage (deny by default); `public` when it authenticates nobody.
 */
export type RouteMode = 'rules' | 'any' | 'deny' | 'public';

/** One route's policy, compiled. */
export interface RoutePolicy extends ImplicitDecisions {
  readonly routeId: string;
  readonly mode: RouteMode;
  readonly rules: readonly MethodRule[];
  readonly bindings: readonly Binding[];
  readonly properties: readonly PropertyRule[];
  /** True when some body binding or write-denied property applies to this method. */
  needsBody(method: string): boolean;
  /** True when some read-denied property exists (responses may need filtering). */
  readonly filtersResponses: boolean;
}

/** The decisions that do not depend on a rule, built once per route. */
interface ImplicitDecisions {
  readonly publicAllowed: Decision;
  readonly deniedByDefault: Decision;
  readonly unauthenticated: Decision;
  readonly anyAuthenticated: Decision;
}

function implicitDecisions(routeId: string): ImplicitDecisions {
  const prefix = `routes.${routeId}`;
  return {
    publicAllowed: allow(`${prefix}.public`, 'route authenticates nobody and has no authorize stage'),
    deniedByDefault: deny(`${prefix}.deny-by-default`, 'route authenticates but has no authorize stage'),
    unauthenticated: deny(`${prefix}.authenticated`, 'no authenticated identity'),
    anyAuthenticated: allow(`${prefix}.any-authenticated`, 'any authenticated caller'),
  };
}

function attributeOf(equals: string): Attribute {
  const name = equals.slice('identity.'.length);
  if (name === 'consumer') return (id) => id.consumer;
  if (name === 'consumerId') return (id) => id.consumerId;
  if (name === 'tenant') return (id) => id.tenant;
  const path = name.slice('claims.'.length).split('.');
  return (id) => {
    let v: unknown = id.claims;
    for (const seg of path) {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, seg)) return undefined;
      v = (v as Record<string, unknown>)[seg];
    }
    return v;
  };
}

const methodSet = (m: readonly string[] | undefined): ReadonlySet<string> | undefined => (m === undefined ? undefined : new Set(m));
const covers = (methods: ReadonlySet<string> | undefined, method: string): boolean => methods === undefined || methods.has(method);

/**
 * Compiles one route's `authorize` options (or its implicit mode when it has none).
 *
 * @example
 *   compileRoutePolicy('users', { type: 'authorize', anyAuthenticated: true, rules: [], objects: [{ in: 'path', name: 'userId', equals: 'identity.consumer', type: 'string' }], properties: [] })
 */
export function compileRoutePolicy(routeId: string, options: AuthorizeOptions | 'deny' | 'public'): RoutePolicy {
  if (typeof options === 'string') {
    return { routeId, mode: options, rules: [], bindings: [], properties: [], needsBody: () => false, filtersResponses: false, ...implicitDecisions(routeId) };
  }
  const prefix = `routes.${routeId}`;
  const rules: MethodRule[] = options.rules.map((r, i) => {
    const id = `${prefix}.rules.${r.id ?? i}`;
    const held = [...r.permissions, ...r.scopes.map((sc) => `scope ${sc}`)].join(', ');
    return { id, methods: methodSet(r.methods), permissions: r.permissions, scopes: r.scopes, allowed: allow(id, `holds ${held}`) };
  });
  const bindings: Binding[] = options.objects.map((o, i) => ({
    id: `${prefix}.objects.${o.id ?? i}`,
    methods: methodSet(o.methods),
    in: o.in,
    name: o.in === 'header' ? o.name.toLowerCase() : o.name,
    bodyPath: o.name.split('.'),
    equals: o.equals,
    attribute: attributeOf(o.equals),
    integer: o.type === 'integer',
    bypass: o.bypass,
  }));
  const properties: PropertyRule[] = options.properties.map((p, i) => ({
    id: `${prefix}.properties.${p.id ?? i}`,
    names: p.fields,
    fields: p.fields.map((f) => f.toLowerCase().split('.')),
    writeDeny: p.write === 'deny',
    readDeny: p.read === 'deny',
    roles: p.roles === undefined ? undefined : new Set(p.roles),
    bypass: p.bypass,
  }));
  const bodyMethods = new Map<string, boolean>();
  return {
    ...implicitDecisions(routeId),
    routeId,
    mode: options.anyAuthenticated ? 'any' : 'rules',
    rules,
    bindings,
    properties,
    filtersResponses: properties.some((p) => p.readDeny),
    needsBody(method) {
      let needs = bodyMethods.get(method);
      if (needs === undefined) {
        needs = bindings.some((b) => b.in === 'body' && covers(b.methods, method)) || properties.some((p) => p.writeDeny);
        bodyMethods.set(method, needs);
      }
      return needs;
    },
  };
}

/** The caller's permissions (none without an identity). */
export function grantsOf(authz: CompiledAuthorization, identity: Identity | undefined): Grants {
  return identity === undefined ? NO_GRANTS : authz.roles.grantsOf(identity.roles);
}

/**
 * The decision for everything but the body.
 *
 * @example
 *   decide(authz, policy, { method: 'GET', path: '/users/bob', params: { userId: 'bob' }, query: '', headers: {} }, alice)
 *   // { allow: false, rule: 'routes.users.objects.own-profile', reason: 'path parameter userId does not equal identity.consumer' }
 */
export function decide(authz: CompiledAuthorization, policy: RoutePolicy, req: AuthzRequest, identity: Identity | undefined): Decision {
  const grants = grantsOf(authz, identity);
  if (authz.functionRules.length > 0) {
    const path = normalisePath(req.path);
    for (const rule of authz.functionRules) {
      if (!covers(rule.methods, req.method)) continue;
      if (rule.paths !== undefined && !rule.paths.some((p) => p.test(path))) continue;
      if (!grants.has(rule.permission)) return deny(rule.id, `function-level rule requires permission ${rule.permission}`);
    }
  }
  switch (policy.mode) {
    case 'public':
      return policy.publicAllowed;
    case 'deny':
      return policy.deniedByDefault;
    default:
  }
  if (identity === undefined || identity.method === 'anonymous') return policy.unauthenticated;
  let decided: Decision;
  if (policy.mode === 'any') {
    decided = policy.anyAuthenticated;
  } else {
    // Rules covering the method are alternatives (e.g. a role's permission, or a token's scope):
    // the first that the caller satisfies allows; otherwise the first one's denial is reported.
    let allowed: Decision | undefined;
    let denied: Decision | undefined;
    for (const rule of policy.rules) {
      if (!covers(rule.methods, req.method)) continue;
      const missingPermission = rule.permissions.find((p) => !grants.has(p));
      const missingScope = missingPermission === undefined ? rule.scopes.find((s) => !identity.scopes.includes(s)) : undefined;
      if (missingPermission === undefined && missingScope === undefined) {
        allowed = rule.allowed;
        break;
      }
      denied ??= deny(rule.id, missingPermission !== undefined ? `requires permission ${missingPermission}` : `requires scope ${missingScope}`);
    }
    if (allowed === undefined) return denied ?? deny(`routes.${policy.routeId}.no-rule`, `no rule covers ${req.method}`);
    decided = allowed;
  }
  for (const b of policy.bindings) {
    if (b.in === 'body' || !covers(b.methods, req.method)) continue;
    if (b.bypass !== undefined && grants.has(b.bypass)) continue;
    const found = requestValue(b, req);
    const denied = found === undefined ? `${describe(b)} is absent or ambiguous` : compare(b, [found], identity);
    if (denied !== undefined) return deny(b.id, denied);
  }
  return decided;
}

/**
 * The body part of the decision: body bindings, then write-denied properties. `undefined` when
 * the body passes.
 */
export function decideBody(authz: CompiledAuthorization, policy: RoutePolicy, method: string, identity: Identity, body: unknown): Decision | undefined {
  const grants = grantsOf(authz, identity);
  for (const b of policy.bindings) {
    if (b.in !== 'body' || !covers(b.methods, method)) continue;
    if (b.bypass !== undefined && grants.has(b.bypass)) continue;
    const values = valuesAt(body, b.bodyPath);
    const denied = values.length === 0 ? `${describe(b)} is absent` : compare(b, values, identity);
    if (denied !== undefined) return deny(b.id, denied);
  }
  for (const p of policy.properties) {
    if (!p.writeDeny || !appliesTo(p, identity, grants)) continue;
    const field = p.fields.find((f) => hasField(body, f));
    if (field !== undefined) return deny(p.id, `writes read-only field ${field.join('.')}`);
  }
  return undefined;
}

/** The read-denied property rules that apply to this caller: their fields leave its JSON responses ([] when none). */
export function hidingRules(authz: CompiledAuthorization, policy: RoutePolicy, identity: Identity | undefined): readonly PropertyRule[] {
  if (!policy.filtersResponses) return [];
  const grants = grantsOf(authz, identity);
  return policy.properties.filter((p) => p.readDeny && appliesTo(p, identity, grants));
}

function appliesTo(p: PropertyRule, identity: Identity | undefined, grants: Grants): boolean {
  if (p.bypass !== undefined && grants.has(p.bypass)) return false;
  return p.roles === undefined || (identity?.roles.some((r) => p.roles!.has(r)) ?? false);
}

function describe(b: Binding): string {
  const where = { path: 'path parameter', query: 'query parameter', header: 'header', body: 'body field' }[b.in];
  return `${where} ${b.name}`;
}

const CANONICAL_INTEGER = /^(?:0|[1-9][0-9]{0,15})$/;

/** Undefined when every value equals the attribute exactly (same type, same value); else why not. */
function compare(b: Binding, values: readonly unknown[], identity: Identity): string | undefined {
  const expected = b.attribute(identity);
  if (expected === undefined || expected === null) return `identity has no ${b.equals.slice('identity.'.length)}`;
  for (let v of values) {
    if (b.integer && typeof v === 'string' && b.in !== 'body') {
      if (!CANONICAL_INTEGER.test(v)) return `${describe(b)} is not a canonical integer`;
      v = Number(v);
    }
    if (b.integer ? !Number.isSafeInteger(v) : typeof v !== 'string') return `${describe(b)} has the wrong type`;
    if (v !== expected) return `${describe(b)} does not equal ${b.equals}`;
  }
  return undefined;
}

/** The single value of a path/query/header binding; undefined when absent or given more than once in any spelling. */
function requestValue(b: Binding, req: AuthzRequest): string | undefined {
  if (b.in === 'path') return Object.hasOwn(req.params, b.name) ? req.params[b.name] : undefined;
  if (b.in === 'header') {
    const v = req.headers[b.name];
    return typeof v === 'string' ? v : undefined;
  }
  return queryValue(req.query, b.name);
}

/**
 * One query parameter, refusing ambiguity: `?t=a&t=b`, and look-alikes that some frameworks read
 * as the same parameter (`T=`, `t[]=`, `t[0]=`), make it undefined.
 */
export function queryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  const lower = name.toLowerCase();
  let found: string | undefined;
  let count = 0;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent((eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
      value = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
    const bare = key.replace(/\[[^\]]*\]$/, '').toLowerCase();
    if (bare !== lower) continue;
    count++;
    if (key !== name) return undefined;
    found = value;
  }
  return count === 1 ? found : undefined;
}
