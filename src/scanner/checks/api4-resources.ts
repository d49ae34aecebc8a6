/**
 * API4 Unrestricted Resource Consumption: no 429 under a burst, page sizes without a ceiling, and
 * request bodies far beyond any sensible size accepted.
 */
import { callOperation, fillPath, finding, itemsOf, label, ok, queryString, requiresAuth, sampleBody, type Check, type ScanContext } from '../context.js';
import type { Exchange, Identity } from '../http.js';
import { flatten, schemaType, type Operation } from '../openapi.js';

const RULES = {
  burst: { id: 'API4-no-rate-limit', category: 'API4', title: 'No rate limiting under a burst' },
  pageSize: { id: 'API4-unbounded-page-size', category: 'API4', title: 'Page size has no ceiling' },
  bodySize: { id: 'API4-oversized-body', category: 'API4', title: 'Oversized request body accepted' },
} as const;

const PAGE_PARAM = /^(limit|size|page_?size|per_?page|count|max|max_?results|top|take|first|pagesize|perpage)$/i;
/** Items returned for `limit=100000` beyond which we call the page size unbounded. */
const PAGE_CEILING = 100;
/** Body size probe, bytes (twice a common 1 MiB limit). */
const OVERSIZED = 2 * 1_048_576;

/**
 * Sends `count` requests as fast as `--rate` allows (concurrently) and tells whether any was
 * throttled. Shared with API6.
 */
export async function burst(ctx: ScanContext, op: Operation, who: Identity | null, count: number): Promise<{ throttled: boolean; last: Exchange | undefined; succeeded: number }> {
  const results = await Promise.all(Array.from({ length: count }, () => callOperation(ctx, op, who)));
  const throttled = results.some((r) => r.status === 429 || r.status === 503 || r.headers['retry-after'] !== undefined);
  return { throttled, last: results.at(-1), succeeded: results.filter(ok).length };
}

export const resourceCheck: Check = {
  category: 'API4',
  rules: Object.values(RULES),
  async run(ctx) {
    const who = ctx.users[0] ?? ctx.identities[0]!;
    const gets = ctx.spec.operations.filter((op) => op.method === 'GET');
    // A list operation is the natural target of scraping; any GET otherwise.
    const target = gets.find((op) => !op.path.includes('{') && requiresAuth(op)) ?? gets[0];
    if (target !== undefined) {
      const res = await burst(ctx, target, who, ctx.settings.burst);
      if (!res.throttled && res.succeeded === ctx.settings.burst && res.last !== undefined) {
        ctx.report(finding(RULES.burst, 'medium', label(target), `${ctx.settings.burst} requests in a burst by one identity were all answered ${res.last.status}; none was throttled (no 429 or Retry-After).`,
          'Rate-limit per consumer and per client address (429 with Retry-After and RateLimit headers), with tighter limits on expensive and authentication operations.', [res.last.evidence]));
      }
    }
    for (const op of gets) {
      for (const p of op.parameters.filter((x) => x.in === 'query' && PAGE_PARAM.test(x.name))) {
        if (!['integer', 'number', undefined].includes(schemaType(p.schema))) continue;
        const ex = await callOperation(ctx, op, who, { path: fillPath(ctx, op, who).split('?')[0]! + queryString(op, { [p.name]: '100000' }) });
        const n = itemsOf(ex.json).length;
        if (ok(ex) && n > Math.max(PAGE_CEILING, p.schema.maximum ?? 0)) {
          ctx.report(finding(RULES.pageSize, 'medium', label(op), `${p.name}=100000 returned ${n} items${p.schema.maximum !== undefined ? ` although the spec caps it at ${p.schema.maximum}` : ''}.`,
            `Enforce a maximum page size on the server (reject or clamp ${p.name} above it), and declare it as "maximum" in the spec so the gateway's contract validation can enforce it too.`, [ex.evidence]));
        }
      }
    }
    const writer = ctx.spec.operations.find((op) => op.method === 'POST' && op.body !== undefined && requiresAuth(op));
    if (writer !== undefined) await oversizedBody(ctx, writer, who);
  },
};

async function oversizedBody(ctx: ScanContext, op: Operation, who: Identity): Promise<void> {
  const body = sampleBody(op) ?? {};
  const props = flatten(op.body!).properties ?? {};
  const key = Object.keys(props).find((k) => schemaType(flatten(props[k]!)) === 'string' && props[k]!.readOnly !== true) ?? 'padding';
  const ex = await callOperation(ctx, op, who, { body: { ...body, [key]: 'A'.repeat(OVERSIZED) } });
  if (!ok(ex)) return;
  ctx.report(finding(RULES.bodySize, 'medium', label(op), `A ${OVERSIZED / 1_048_576} MiB JSON body (${key} padded) was accepted with HTTP ${ex.status}.`,
    'Cap request bodies per route (the gateway\'s limits.maxBodyBytes, 413 above it) and declare maxLength on free-text fields.', [ex.evidence]));
}
