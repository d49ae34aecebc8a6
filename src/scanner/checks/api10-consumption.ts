/**
 * API10 Unsafe Consumption of APIs: operations that take a URL and use what it returns (the spec
 * may mark them, or their response fields, with `x-rampart-upstream-derived`) are pointed at the
 * canary, which serves markup, template and SQL payloads. The check judges the API's answer:
 * markup echoed unescaped into HTML, a template evaluated, or a database error.
 */
import { DESTRUCTIVE, finding, label, type Check } from '../context.js';
import { HOSTILE } from '../canary.js';
import { flatten, type Operation } from '../openapi.js';
import { matchSignatures } from '../signatures.js';
import { sendWithUrl, urlInputs } from './api7-ssrf.js';

const RULE = { id: 'API10-unsafe-consumption', category: 'API10', title: 'Third-party data used without validation or encoding' } as const;

function marked(op: Operation): boolean {
  if (op.raw['x-rampart-upstream-derived'] !== undefined) return true;
  const props = op.response === undefined ? {} : (flatten(op.response).properties ?? {});
  return Object.values(props).some((p) => p['x-rampart-upstream-derived'] === true);
}

export const consumptionCheck: Check = {
  category: 'API10',
  rules: [RULE],
  async run(ctx) {
    const who = ctx.users[0] ?? ctx.identities[0]!;
    for (const op of ctx.spec.operations) {
      if (ctx.settings.safe && DESTRUCTIVE.has(op.method)) continue;
      for (const input of urlInputs(op)) {
        const token = ctx.canary.token();
        const ex = await sendWithUrl(ctx, op, who, input, ctx.canary.url(token));
        if (ctx.canary.hits(token) === 0) {
          if (marked(op)) ctx.note(`API10: ${label(op)} is marked as consuming upstream data but did not fetch the scanner's URL from ${input.name}`);
          continue;
        }
        const problems: string[] = [];
        if (/html/i.test(ex.headers['content-type'] ?? '') && ex.text.includes(HOSTILE.html)) problems.push('markup from the third-party response was echoed unescaped into an HTML page');
        if (ex.text.includes(HOSTILE.evaluated)) problems.push('a template expression from the third-party response was evaluated');
        const sql = matchSignatures(ex.text, ['sql', 'nosql', 'template']);
        if (sql.length > 0) problems.push(`third-party data reached a query or template unescaped (${sql[0]!.name} error)`);
        if (problems.length === 0) continue;
        ctx.report(finding(RULE, 'high', `${label(op)} (${input.in} ${input.name})`, `${problems.join('; ')}.`,
          'Treat data from other APIs like user input: validate it against a schema, encode it for the context it is written to (HTML, SQL, templates) and bound its size; fetch only from allowlisted hosts over TLS.', [ex.evidence]));
      }
    }
  },
};
