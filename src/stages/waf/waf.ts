import { z } from 'zod';
import { RampartError } from '../../core/errors.js';
import type { RequestContext } from '../../core/context.js';
import { WafEngine, type Input } from '../../waf/engine.js';
import { headerInputs, jsonInputs, pathInputs, queryInputs } from '../../waf/inputs.js';
import { FAMILIES, RULES, type RuleId } from '../../waf/rules.js';
import { parsedBody, type ParsedBody } from '../../validate/body.js';
import { defineStage } from '../definition.js';
import { bodyLimitsSchema } from '../limits.js';

const ruleId = z.string().refine((r) => r in RULES, 'unknown rule id (see docs/validation.md)') as unknown as z.ZodType<RuleId>;
const ruleOrFamily = z.string().refine((r) => r in RULES || (FAMILIES as readonly string[]).includes(r), 'unknown rule id or family');

const wafOptions = z
  .object({
    type: z.literal('waf'),
    /** `block`: refuse attacks with 403. `detect`: record the event and let the request through. */
    mode: z.enum(['block', 'detect']).default('block'),
    /** 1 (default): near-zero false positives. 2–3: more rules, more false positives. */
    paranoia: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
    /** Anomaly score at which a request is an attack (one critical rule scores 5). */
    threshold: z.number().int().min(1).default(5),
    /** Host names (exact) or `.suffixes` that count as internal for SSRF, besides private/loopback/metadata addresses. */
    internalHosts: z.array(z.string().min(1)).default([]),
    /** Rules switched off on this route. */
    disabledRules: z.array(ruleId).default([]),
    /** Per-field exclusions, e.g. `{ fields: [body.html], rules: [xss] }` (rules or families; empty = all). */
    exclusions: z.array(z.object({ fields: z.array(z.string().min(1)).min(1), rules: z.array(ruleOrFamily).default([]) }).strict()).default([]),
    /** Inspect request headers (except credentials and protocol headers) and cookies. */
    inspectHeaders: z.boolean().default(true),
    /** Time budget per request, milliseconds (wall clock, so generous: CPU starvation counts too); a request not inspected in time is refused. */
    budgetMs: z.number().positive().default(200),
    limits: bodyLimitsSchema,
  })
  .strict();

function bodyInputs(body: ParsedBody, out: Input[]): void {
  switch (body.kind) {
    case 'json':
      jsonInputs(body.value, 'body', out);
      return;
    case 'form':
    case 'multipart':
      jsonInputs(body.value, 'body', out);
      if (body.kind === 'multipart') for (const f of body.files) out.push({ location: 'body', field: `body.${f.field}.filename`, value: f.filename });
      return;
    case 'text':
      out.push({ location: 'body', field: 'body', value: body.value });
      return;
    default:
  }
}

/**
 * Injection detection (inspect phase) with Rampart's own engine (src/waf/): path, query, headers,
 * cookies and body are inspected after decoding; an attack is refused with 403 (`block`) or only
 * recorded (`detect`). The event names the rules, families and fields, never the payload.
 *
 * @example
 *   stages: [{ type: waf, mode: block, paranoia: 1, exclusions: [{ fields: [body.html], rules: [xss] }] }]
 */
export const wafStage = defineStage({
  type: 'waf',
  phase: 'inspect',
  options: wafOptions,
  create(options) {
    const engine = new WafEngine({
      paranoia: options.paranoia,
      threshold: options.threshold,
      internalHosts: options.internalHosts,
      disabledRules: options.disabledRules,
      exclusions: options.exclusions.map((e) => ({ fields: e.fields, rules: e.rules as RuleId[] })),
      budgetMs: options.budgetMs,
    });
    const check = (ctx: RequestContext, body: ParsedBody): void => {
      const inputs = pathInputs(ctx.rawPath);
      queryInputs(ctx.query, inputs);
      if (options.inspectHeaders) headerInputs(ctx.req.headers, inputs);
      bodyInputs(body, inputs);
      const verdict = engine.inspect(inputs);
      if (verdict.overBudget) {
        ctx.emit({ type: 'waf.incomplete', severity: 'medium', source: 'waf', code: 'RAMPART_INSPECTION_INCOMPLETE', reason: `inspection exceeded ${options.budgetMs} ms` });
        if (options.mode === 'block') throw new RampartError('RAMPART_INSPECTION_INCOMPLETE', 'The request could not be inspected in time.', { reason: `inspection budget of ${options.budgetMs} ms exceeded` });
        return;
      }
      if (!verdict.attack) return;
      const families = [...new Set(verdict.matches.map((m) => m.family))];
      const locations = [...new Set(verdict.matches.map((m) => m.field.replace(/[^\w.[\]-]/g, '?')))];
      ctx.emit({
        type: options.mode === 'block' ? 'waf.blocked' : 'waf.detected',
        severity: 'high',
        source: 'waf',
        code: 'RAMPART_INJECTION_DETECTED',
        reason: `${families.join(', ')} in ${locations.join(', ')}`,
        data: { mode: options.mode, score: verdict.score, matches: verdict.matches.map((m) => ({ rule: m.rule, family: m.family, location: m.location, field: m.field, score: m.score })) },
      });
      if (options.mode === 'block') {
        // The client learns the family and the field, never its own payload echoed back.
        throw new RampartError('RAMPART_INJECTION_DETECTED', `Possible ${families.join(', ')} injection in ${locations.slice(0, 3).join(', ')}.`, {
          reason: `rules ${verdict.matches.map((m) => m.rule).join(', ')} (score ${verdict.score})`,
        });
      }
    };
    return {
      name: 'waf',
      phase: 'inspect',
      // Synchronous when the request has no body: no promise, no microtask.
      handle(ctx) {
        const body = parsedBody(ctx, options.limits);
        if (body instanceof Promise) return body.then((b) => check(ctx, b));
        check(ctx, body);
        return undefined;
      },
    };
  },
});
