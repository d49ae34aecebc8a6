/**
 * API7 Server Side Request Forgery: URL-typed inputs pointed at the scanner's loopback canary (a
 * hit proves the server fetches attacker-chosen internal URLs, including via encoded loopback
 * forms) and at metadata / local-file addresses (judged by what comes back).
 */
import { callOperation, DESTRUCTIVE, fillPath, finding, label, ok, queryString, sampleBody, type Check, type ScanContext } from '../context.js';
import type { Exchange, Identity } from '../http.js';
import { flatten, isUrlLike, type Operation } from '../openapi.js';
import { matchSignatures } from '../signatures.js';

const RULES = {
  canary: { id: 'API7-ssrf', category: 'API7', title: 'Server fetches attacker-supplied URLs' },
  internal: { id: 'API7-ssrf-internal-data', category: 'API7', title: 'Server returns internal data for an attacker-supplied URL' },
} as const;

export interface UrlInput {
  in: 'query' | 'body';
  name: string;
}

/** Query parameters and top-level body properties that carry URLs. */
export function urlInputs(op: Operation): UrlInput[] {
  const out: UrlInput[] = op.parameters.filter((p) => p.in === 'query' && isUrlLike(p.name, p.schema)).map((p) => ({ in: 'query', name: p.name }));
  if (op.body !== undefined) {
    for (const [name, schema] of Object.entries(flatten(op.body).properties ?? {})) if (isUrlLike(name, schema)) out.push({ in: 'body', name });
  }
  return out;
}

/** Calls `op` with `url` placed in `input`. */
export function sendWithUrl(ctx: ScanContext, op: Operation, who: Identity, input: UrlInput, url: string): Promise<Exchange> {
  if (input.in === 'query') return callOperation(ctx, op, who, { path: fillPath(ctx, op, who).split('?')[0]! + queryString(op, { [input.name]: url }) });
  return callOperation(ctx, op, who, { body: { ...sampleBody(op), [input.name]: url } });
}

/** Loopback written the ways naive blocklists miss. */
function loopbackVariants(canaryUrl: string): string[] {
  const u = new URL(canaryUrl);
  return [`http://2130706433:${u.port}${u.pathname}`, `http://127.1:${u.port}${u.pathname}`, `http://[::ffff:127.0.0.1]:${u.port}${u.pathname}`];
}

const INTERNAL_TARGETS = ['http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/computeMetadata/v1/', 'file:///etc/passwd'];

export const ssrfCheck: Check = {
  category: 'API7',
  rules: Object.values(RULES),
  async run(ctx) {
    const who = ctx.users[0] ?? ctx.identities[0]!;
    for (const op of ctx.spec.operations) {
      if (ctx.settings.safe && DESTRUCTIVE.has(op.method)) continue;
      for (const input of urlInputs(op)) {
        const where = `${label(op)} (${input.in} ${input.name})`;
        for (const url of [null, ...loopbackVariants(ctx.canary.url('0000000000000000'))]) {
          const token = ctx.canary.token();
          const target = url === null ? ctx.canary.url(token) : url.replace('0000000000000000', token);
          const ex = await sendWithUrl(ctx, op, who, input, target);
          if (ctx.canary.hits(token) === 0) continue;
          ctx.report(finding(RULES.canary, 'high', where, `The server fetched ${target} (a loopback address the scanner listens on) when given it in ${input.name}.`,
            'Fetch only from an allowlist of hosts and schemes; resolve the name and refuse loopback, link-local, private and metadata addresses after resolution (and on every redirect); send outbound requests through an egress proxy.', [{ ...ex.evidence, note: `canary received ${ctx.canary.hits(token)} request(s)` }]));
          break;
        }
        for (const internal of INTERNAL_TARGETS) {
          const ex = await sendWithUrl(ctx, op, who, input, internal);
          const leaked = matchSignatures(ex.text, ['metadata']);
          if (!ok(ex) || leaked.length === 0) continue;
          ctx.report(finding(RULES.internal, 'critical', where, `Given ${internal}, the response contained ${leaked[0]!.name} content.`,
            'Refuse non-http(s) schemes and internal addresses for server-side fetches; never return fetched bodies verbatim.', [ex.evidence]));
          break;
        }
      }
    }
  },
};
