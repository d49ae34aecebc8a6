/**
 * API6 Unrestricted Access to Sensitive Business Flows: operations the spec marks with
 * `x-rampart-business-flow` (checkout, sign-up, booking, voting…) callable in an automated burst.
 */
import { DESTRUCTIVE, finding, label, type Check } from '../context.js';
import { burst } from './api4-resources.js';

const RULE = { id: 'API6-automatable-flow', category: 'API6', title: 'Sensitive business flow can be automated' } as const;

export const flowCheck: Check = {
  category: 'API6',
  rules: [RULE],
  async run(ctx) {
    const flows = ctx.spec.operations.filter((op) => op.raw['x-rampart-business-flow'] !== undefined && op.raw['x-rampart-business-flow'] !== false);
    if (flows.length === 0) ctx.note('API6: no operation is marked x-rampart-business-flow; mark checkout, sign-up or similar flows to test them');
    const who = ctx.users[0] ?? ctx.identities[0]!;
    for (const op of flows) {
      if (ctx.settings.safe && DESTRUCTIVE.has(op.method)) continue;
      const count = Math.min(ctx.settings.burst, 20);
      const res = await burst(ctx, op, who, count);
      if (res.throttled || res.succeeded < count || res.last === undefined) continue;
      const flow = String(op.raw['x-rampart-business-flow']);
      ctx.report(finding(RULE, 'medium', label(op), `The "${flow}" flow completed ${count} times in a burst by one identity without any throttling.`,
        'Limit the flow per account, device and address (e.g. a few per hour, 429 with Retry-After), and add friction where a human is expected (step-up, CAPTCHA, velocity checks).', [res.last.evidence]));
    }
  },
};
