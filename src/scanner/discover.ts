/**
 * Before the checks: every identity creates one object through each collection `POST` and lists
 * each collection `GET`, so that checks know which ids belong to whom. Ownership comes from
 * creation, or from an id that appears in one identity's list and not in another's.
 */
import { callOperation, fillPath, idOf, itemsOf, itemTemplates, ok, type KnownObject, type ScanContext } from './context.js';
import { isObject } from './openapi.js';

/**
 * Fills `ctx.objects`.
 *
 * @example
 *   await discoverObjects(ctx); ctx.objects.filter((o) => o.owner === 'alice')
 */
export async function discoverObjects(ctx: ScanContext): Promise<void> {
  // Shallow collections first so nested ones (`/users/{id}/orders`) can use their parent's ids.
  const collections = ctx.spec.operations
    .filter((op) => (op.method === 'POST' || op.method === 'GET') && !/\}$/.test(op.path))
    .sort((a, b) => a.path.split('/').length - b.path.split('/').length || (a.method === 'POST' ? -1 : 1));
  const listed = new Map<string, Map<string, Record<string, unknown>>>();
  for (const op of collections) {
    const templates = itemTemplates(ctx.spec, op.path);
    if (templates.length === 0) continue;
    const { template, param } = templates[0]!;
    for (const who of ctx.identities) {
      const ex = await callOperation(ctx, op, who, { path: fillPath(ctx, op, who) });
      if (!ok(ex)) continue;
      if (op.method === 'POST') {
        const id = idOf(ex.json) ?? ex.headers['location']?.split('/').filter(Boolean).pop();
        if (id !== undefined) ctx.objects.push({ template, param, id, owner: who.name, created: true, body: isObject(ex.json) ? ex.json : {} });
      } else {
        const ids = new Map<string, Record<string, unknown>>();
        for (const item of itemsOf(ex.json)) {
          const id = idOf(item);
          if (id !== undefined) ids.set(id, item);
        }
        listed.set(`${template}\n${who.name}`, ids);
      }
    }
    if (op.method === 'GET') ctx.objects.push(...ownedByListing(ctx, template, param, listed));
  }
  if (ctx.objects.length === 0) ctx.note('discovery: no object ids found (no collection POST succeeded and no list showed ids); object-level checks (API1) had nothing to test');
}

/** Ids that only one identity's list shows are taken to be that identity's. */
function ownedByListing(ctx: ScanContext, template: string, param: string, listed: Map<string, Map<string, Record<string, unknown>>>): KnownObject[] {
  const out: KnownObject[] = [];
  for (const who of ctx.identities) {
    const mine = listed.get(`${template}\n${who.name}`);
    if (mine === undefined) continue;
    for (const [id, body] of mine) {
      if (ctx.objects.some((o) => o.template === template && o.id === id)) continue;
      // Administrators legitimately see everything, so only other users' lists count.
      const seenByOthers = ctx.users.some((other) => other !== who && listed.get(`${template}\n${other.name}`)?.has(id) === true);
      if (!seenByOthers && !ctx.admins.includes(who)) out.push({ template, param, id, owner: who.name, created: false, body });
    }
  }
  // One listed object per owner is enough evidence; more only multiplies requests.
  return out.filter((o, i) => out.findIndex((x) => x.owner === o.owner) === i);
}
