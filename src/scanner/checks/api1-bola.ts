/**
 * API1 Broken Object Level Authorization: objects one user created or listed are read, changed or
 * deleted by another user. Administrators are never used as attackers (they may see everything).
 */
import { callOperation, DESTRUCTIVE, finding, idOf, ok, type Check, type KnownObject, type ScanContext } from '../context.js';
import type { Identity } from '../http.js';
import type { Operation } from '../openapi.js';

const RULES = {
  read: { id: 'API1-bola-read', category: 'API1', title: "Another user's object can be read" },
  write: { id: 'API1-bola-write', category: 'API1', title: "Another user's object can be changed or deleted" },
} as const;

const REMEDIATION =
  'Check ownership (or an explicit grant) of every object id on every operation, on the server, after authentication: ' +
  'look the object up scoped to the caller (WHERE id = ? AND owner = ?) and answer 404 when it is not theirs.';

export const bolaCheck: Check = {
  category: 'API1',
  rules: Object.values(RULES),
  async run(ctx) {
    const attackersOf = (owner: string): Identity[] => ctx.users.filter((u) => u.name !== owner);
    if (ctx.users.length < 2) ctx.note('API1: needs two non-admin identities (e.g. --identity alice=… --identity bob=…)');
    for (const obj of [...ctx.objects]) {
      const ops = ctx.spec.operations.filter((op) => op.path === obj.template);
      for (const attacker of attackersOf(obj.owner)) {
        const get = ops.find((op) => op.method === 'GET');
        if (get !== undefined) await tryRead(ctx, get, obj, attacker);
        if (ctx.settings.safe || !obj.created) continue;
        // Changes before deletion, so the object still exists for each probe.
        const writes = ops.filter((o) => DESTRUCTIVE.has(o.method));
        for (const op of [...writes.filter((o) => o.method !== 'DELETE'), ...writes.filter((o) => o.method === 'DELETE')]) {
          await tryWrite(ctx, op, obj, attacker);
        }
      }
    }
  },
};

async function tryRead(ctx: ScanContext, op: Operation, obj: KnownObject, attacker: Identity): Promise<void> {
  const path = op.path.replace(`{${obj.param}}`, encodeURIComponent(obj.id));
  const ex = await callOperation(ctx, op, attacker, { path: resolveOthers(ctx, op, path, attacker) });
  // The same id coming back (or, for id-less bodies, a 2xx with a body) means the object was served.
  const served = ok(ex) && (idOf(ex.json) === obj.id || (idOf(ex.json) === undefined && ex.text.length > 2));
  if (!served) return;
  ctx.report(finding(RULES.read, 'high', `${op.method} ${op.path}`, `${attacker.name} read ${obj.owner}'s object ${obj.param}=${obj.id} (HTTP ${ex.status}).`, REMEDIATION, [ex.evidence]));
}

async function tryWrite(ctx: ScanContext, op: Operation, obj: KnownObject, attacker: Identity): Promise<void> {
  const path = op.path.replace(`{${obj.param}}`, encodeURIComponent(obj.id));
  const ex = await callOperation(ctx, op, attacker, { path: resolveOthers(ctx, op, path, attacker) });
  if (!ok(ex)) return;
  const verb = op.method === 'DELETE' ? 'deleted' : 'changed';
  // A deleted object must not be used to fill paths for later checks.
  if (op.method === 'DELETE') ctx.objects.splice(ctx.objects.indexOf(obj), 1);
  ctx.report(finding(RULES.write, 'critical', `${op.method} ${op.path}`, `${attacker.name} ${verb} ${obj.owner}'s object ${obj.param}=${obj.id} (HTTP ${ex.status}).`, REMEDIATION, [ex.evidence]));
}

/** Other path parameters (nested resources) take the attacker's own ids. */
function resolveOthers(ctx: ScanContext, op: Operation, path: string, attacker: Identity): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const own = ctx.objects.find((o) => o.param === name && o.owner === attacker.name);
    return encodeURIComponent(own?.id ?? '1');
  });
}
