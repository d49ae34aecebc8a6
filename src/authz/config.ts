/**
 * Configuration of authorization: the top-level `authorization:` section (roles, function-level
 * rules, method override) and the options of the per-route `authorize` stage. Only zod here, so
 * that the config schema and the stage registry can both import it without cycles.
 */
import { z } from 'zod';

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const RULE_ID = z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'must be 1-64 characters of a-z A-Z 0-9 _ . -');

/** `pets:read`, `pets:*`, `*`: segments separated by `:`, `*` only as a whole last segment. */
export const PERMISSION = /^(?:\*|[a-zA-Z0-9_.-]+(?::[a-zA-Z0-9_.-]+)*(?::\*)?)$/;
/** Role names, in the config and in the store. */
export const ROLE_NAME = /^[a-zA-Z0-9_.:-]{1,64}$/;
const permission = z.string().regex(PERMISSION, 'must look like resource:action (e.g. pets:read), resource:* or *');
/** A required permission or scope is always concrete: wildcards belong to grants only. */
const requiredPermission = z.string().regex(/^[a-zA-Z0-9_.-]+(?::[a-zA-Z0-9_.-]+)*$/, 'must be concrete, like pets:read (no wildcard)');
const scope = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'must be an OAuth scope token');
const methods = z.array(z.enum(HTTP_METHODS)).min(1);
/** `/admin/**`, `/users/*`: literal segments, `*` for one segment, a trailing `**` for any rest. */
const pathGlob = z.string().regex(/^\/[^?#\s]*$/, 'must start with / and have no query, fragment or spaces');

/** Permissions of a role kept in the store (admin API): bounded, since any admin token can write them. */
export const storeRolePermissions = z
  .array(permission.max(128))
  .max(100)
  .refine((a) => new Set(a).size === a.length, 'must not repeat entries');

/**
 * Why a store role is malformed (same syntax as config roles), or undefined when it is valid.
 *
 * @example
 *   storeRoleProblem('reader', ['pets:read']) // undefined
 *   storeRoleProblem('bad name', [])          // 'role name must be 1-64 characters of a-z A-Z 0-9 _ . : -'
 */
export function storeRoleProblem(name: string, permissions: readonly string[]): string | undefined {
  if (!ROLE_NAME.test(name)) return 'role name must be 1-64 characters of a-z A-Z 0-9 _ . : -';
  const parsed = storeRolePermissions.safeParse(permissions);
  return parsed.success ? undefined : `permissions: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`.trim()).join('; ')}`;
}

const functionRule = z
  .object({
    /** Stable rule id shown in events and `rampart policy explain` (default `adminOnly[INDEX]`). */
    id: RULE_ID.optional(),
    /** Methods this rule covers; absent: every method. */
    methods: methods.optional(),
    /** Path globs this rule covers (matched case-insensitively, `;params` ignored); absent: every path. */
    paths: z.array(pathGlob).min(1).optional(),
    /** Permission the caller must hold. */
    permission: requiredPermission.default('admin'),
  })
  .strict()
  .refine((r) => r.methods !== undefined || r.paths !== undefined, 'give methods, paths or both');

export const authorizationSchema = z
  .object({
    /** Role name → granted permissions (`pets:read`, `pets:*`, `*`). Store roles (admin API) add to these; on a name clash the config role wins. */
    roles: z.record(z.string().regex(ROLE_NAME), z.array(permission)).default({}),
    /**
     * Function-level rules, checked on every route before the route's own rules: a request that
     * matches one needs its permission, whatever the route says.
     */
    adminOnly: z.array(functionRule).default([]),
    /**
     * Accept `X-HTTP-Method-Override` and friends (default: refused with 400). When accepted, the
     * overriding method is the one authorized.
     */
    allowMethodOverride: z.boolean().default(false),
  })
  .strict();

export type AuthorizationConfig = z.infer<typeof authorizationSchema>;

const methodRule = z
  .object({
    id: RULE_ID.optional(),
    /** Methods this rule covers; absent: every method of the route. The first matching rule decides. */
    methods: methods.optional(),
    /** Permissions (through roles) the caller must all hold. */
    permissions: z.array(requiredPermission).default([]),
    /** Token or key scopes the caller must all carry. */
    scopes: z.array(scope).default([]),
  })
  .strict()
  .refine((r) => r.permissions.length + r.scopes.length > 0, 'a rule needs permissions, scopes or both (use anyAuthenticated: true for none)');

/** Identity attribute a request value must equal. */
const identityAttribute = z.string().regex(/^identity\.(?:consumer|consumerId|tenant|claims\.[a-zA-Z0-9_:.-]{1,128})$/, 'must be identity.consumer, identity.consumerId, identity.tenant or identity.claims.NAME');

const objectRule = z
  .object({
    id: RULE_ID.optional(),
    methods: methods.optional(),
    /** Where the request value is: a path parameter, a query parameter, a header, or a JSON body field (dotted path). */
    in: z.enum(['path', 'query', 'header', 'body']),
    /** Parameter, header or dotted field name. */
    name: z.string().min(1).max(256),
    /** The identity attribute it must equal (exactly: no case folding, no type coercion). */
    equals: identityAttribute,
    /**
     * Type of the value: `string` (default) compares with string attributes; `integer` needs a
     * canonical decimal (no sign, no leading zeros) and compares with number attributes.
     */
    type: z.enum(['string', 'integer']).default('string'),
    /** Permission that skips this check (e.g. `users:any` for support staff). */
    bypass: requiredPermission.optional(),
  })
  .strict()
  .refine((r) => r.in !== 'path' || /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(r.name), { message: 'a path parameter name is like userId', path: ['name'] });

const fieldPath = z.string().regex(/^[^.\s]{1,128}(?:\.[^.\s]{1,128}){0,15}$/, 'must be a dotted field path like role or profile.role');

const propertyRule = z
  .object({
    id: RULE_ID.optional(),
    /** Field paths (dotted; arrays on the way apply to each element; names match case-insensitively). */
    fields: z.array(fieldPath).min(1),
    /** Refuse requests whose JSON body sets one of the fields (mass assignment). */
    write: z.enum(['allow', 'deny']).default('allow'),
    /** Remove the fields from JSON responses. */
    read: z.enum(['allow', 'deny']).default('allow'),
    /** Roles this rule applies to; absent: every caller. */
    roles: z.array(z.string().min(1)).min(1).optional(),
    /** Permission that exempts the caller. */
    bypass: requiredPermission.optional(),
  })
  .strict()
  .refine((r) => r.write === 'deny' || r.read === 'deny', 'set write: deny, read: deny or both');

export const authorizeOptionsSchema = z
  .object({
    type: z.literal('authorize'),
    /** Explicit opt-out of rules: any authenticated caller passes (object and property rules still apply). */
    anyAuthenticated: z.boolean().default(false),
    /** Per-method requirements; a method no rule covers is refused. */
    rules: z.array(methodRule).default([]),
    /** Object-level (BOLA) bindings, all of which must hold. */
    objects: z.array(objectRule).default([]),
    /** Property-level rules (mass assignment, response field stripping). */
    properties: z.array(propertyRule).default([]),
  })
  .strict()
  .refine((o) => o.anyAuthenticated !== (o.rules.length > 0), {
    message: 'give rules, or anyAuthenticated: true (and not both)',
    path: ['rules'],
  });

export type AuthorizeOptions = z.infer<typeof authorizeOptionsSchema>;
