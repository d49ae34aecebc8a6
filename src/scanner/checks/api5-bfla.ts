/**
 * API5 Broken Function Level Authorization: a low-privilege identity reaching administrative
 * operations, or methods the spec does not declare on a path.
 */
import { callOperation, DESTRUCTIVE, fillPath, finding, label, ok, type Check } from '../context.js';
import { METHODS, type Operation } from '../openapi.js';

const RULES = {
  admin: { id: 'API5-admin-function', category: 'API5', title: 'Administrative operation reachable by a regular user' },
  method: { id: 'API5-undeclared-method', category: 'API5', title: 'Undeclared method accepted on a documented path' },
} as const;

const ADMIN_PATH = /(^|\/)(admin|administration|internal|manage|management|superuser|staff|backoffice|ops|sudo)(\/|$)/i;

/** Does the spec mark this operation as administrative (path, tag, scopes or `x-rampart-roles`)? */
export function isAdminOperation(op: Operation): boolean {
  if (ADMIN_PATH.test(op.path) || op.tags.some((t) => /admin/i.test(t))) return true;
  const roles = op.raw['x-rampart-roles'];
  if (Array.isArray(roles) && roles.some((r) => /admin/i.test(String(r)))) return true;
  return op.security.some((req) => Object.values(req).some((scopes) => Array.isArray(scopes) && scopes.some((s) => /admin/i.test(s))));
}

export const bflaCheck: Check = {
  category: 'API5',
  rules: Object.values(RULES),
  async run(ctx) {
    const allowed = (m: string): boolean => !(ctx.settings.safe && DESTRUCTIVE.has(m));
    for (const op of ctx.spec.operations.filter((o) => isAdminOperation(o) && allowed(o.method))) {
      for (const user of ctx.users) {
        const ex = await callOperation(ctx, op, user);
        if (!ok(ex)) continue;
        ctx.report(finding(RULES.admin, DESTRUCTIVE.has(op.method) || op.method === 'POST' ? 'critical' : 'high', label(op), `${user.name}, a regular user, called ${label(op)} and got HTTP ${ex.status}.`,
          'Authorize by function as well as by object: deny administrative operations unless the caller has the role (RBAC at the gateway or in the service), and deny by default.', [ex.evidence]));
        break;
      }
    }
    const attacker = ctx.users.at(-1);
    if (attacker === undefined) return;
    const paths = new Map<string, Operation[]>();
    for (const op of ctx.spec.operations) paths.set(op.path, [...(paths.get(op.path) ?? []), op]);
    for (const [path, ops] of paths) {
      const declared = new Set(ops.map((o) => o.method));
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !declared.has(m) && allowed(m) && METHODS.includes(m.toLowerCase() as (typeof METHODS)[number]))) {
        const probe: Operation = { ...ops[0]!, method, body: ops.find((o) => o.body !== undefined)?.body };
        const ex = await callOperation(ctx, probe, attacker, { path: fillPath(ctx, probe, attacker) });
        if (!ok(ex)) continue;
        ctx.report(finding(RULES.method, 'high', `${method} ${path}`, `${method} is not declared for ${path} but answered HTTP ${ex.status} to ${attacker.name}.`,
          'Route only the methods the contract declares (the gateway route\'s methods list, or 405 in the service), and authorize each method separately.', [ex.evidence]));
      }
    }
  },
};
