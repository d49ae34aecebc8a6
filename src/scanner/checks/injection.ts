/**
 * Injection fuzzing of every query, path and top-level JSON body parameter with SQL, NoSQL,
 * command and template payloads chosen by the parameter's type. Judged three ways against a
 * baseline request: error signatures that the baseline lacks, evaluated/echoed markers (template
 * arithmetic, `id` output), and a delay matching a time-based payload (confirmed twice).
 * A NoSQL operator that turns a rejected request into an accepted one counts as well.
 */
import { callOperation, DESTRUCTIVE, fillPath, finding, label, ok, queryString, sampleBody, type Check, type ScanContext } from '../context.js';
import type { Exchange, Identity } from '../http.js';
import { flatten, sample, schemaType, type JsonSchema, type Operation } from '../openapi.js';
import { matchSignatures, type Signature } from '../signatures.js';

const RULE = { id: 'INJ-injection', category: 'INJ', title: 'Injection' } as const;

type Family = 'sql' | 'nosql' | 'command' | 'template';
interface Payload {
  family: Family;
  value: unknown;
  /** Marker that proves evaluation when it appears in the response. */
  proof?: RegExp;
  /** Seconds of delay the payload asks for. */
  sleeps?: boolean;
}

function payloads(schema: JsonSchema, delaySeconds: number, inBody: boolean): Payload[] {
  const type = schemaType(flatten(schema));
  const s = String(delaySeconds);
  const numeric = type === 'integer' || type === 'number';
  const out: Payload[] = numeric
    ? [
        { family: 'sql', value: "1'" },
        { family: 'sql', value: '1 AND 1=CONVERT(int,@@version)--' },
        { family: 'sql', value: `1 AND SLEEP(${s})`, sleeps: true },
        { family: 'sql', value: `1;SELECT pg_sleep(${s})--`, sleeps: true },
      ]
    : [
        { family: 'sql', value: "rampart'\"" },
        { family: 'sql', value: "' OR '1'='1' -- " },
        { family: 'sql', value: `' OR SLEEP(${s})-- `, sleeps: true },
        { family: 'sql', value: `';SELECT pg_sleep(${s})--`, sleeps: true },
        { family: 'command', value: ';id', proof: /\buid=\d+\(/ },
        { family: 'command', value: '$(id)', proof: /\buid=\d+\(/ },
        { family: 'command', value: `|sleep ${s}`, sleeps: true },
        { family: 'command', value: `$(sleep ${s})`, sleeps: true },
        { family: 'template', value: '{{7*191919}}', proof: /1343433/ },
        { family: 'template', value: '${7*191919}', proof: /1343433/ },
        { family: 'template', value: '<%= 7*191919 %>', proof: /1343433/ },
        { family: 'nosql', value: "';return true;var x='" },
      ];
  if (inBody) out.push({ family: 'nosql', value: { $ne: null } }, { family: 'nosql', value: { $gt: '' } });
  return out;
}

interface Slot {
  in: 'query' | 'path' | 'body';
  name: string;
  schema: JsonSchema;
}

function slots(op: Operation): Slot[] {
  const out: Slot[] = op.parameters.filter((p) => p.in === 'query' || p.in === 'path').map((p) => ({ in: p.in as 'query' | 'path', name: p.name, schema: p.schema }));
  if (op.body !== undefined) {
    for (const [name, schema] of Object.entries(flatten(op.body).properties ?? {})) {
      if (schema.readOnly !== true && ['string', 'integer', 'number', undefined].includes(schemaType(flatten(schema)))) out.push({ in: 'body', name, schema });
    }
  }
  return out;
}

function send(ctx: ScanContext, op: Operation, who: Identity | null, slot: Slot, value: unknown): Promise<Exchange> {
  if (slot.in === 'body') return callOperation(ctx, op, who, { body: { ...sampleBody(op), [slot.name]: value } });
  if (slot.in === 'path') {
    const path = fillPath(ctx, op, who, { [slot.name]: String(value) });
    return callOperation(ctx, op, who, { path });
  }
  return callOperation(ctx, op, who, { path: fillPath(ctx, op, who).split('?')[0]! + queryString(op, { [slot.name]: String(value) }) });
}

const FAMILY_SIGNATURES: Record<Family, Signature['family'][]> = { sql: ['sql'], nosql: ['nosql'], command: ['command'], template: ['template'] };
const SEVERITY = { sql: 'critical', nosql: 'high', command: 'critical', template: 'critical' } as const;

export const injectionCheck: Check = {
  category: 'INJ',
  rules: [RULE],
  async run(ctx) {
    const delayMs = ctx.settings.timingDelayMs;
    for (const op of ctx.spec.operations) {
      if ((ctx.settings.safe && DESTRUCTIVE.has(op.method)) || op.method === 'DELETE') continue;
      // Public operations are fuzzed anonymously (their usual caller), others as a user.
      const who = op.security.length === 0 || op.security.some((r) => Object.keys(r).length === 0) ? null : (ctx.users[0] ?? ctx.identities[0]!);
      for (const slot of slots(op)) {
        const base = await send(ctx, op, who, slot, sample(slot.schema, slot.name));
        for (const p of payloads(slot.schema, delayMs / 1000, slot.in === 'body')) {
          const ex = await send(ctx, op, who, slot, p.value);
          const why = judge(p, base, ex, delayMs);
          const confirmed = why !== undefined && (!p.sleeps || judge(p, base, await send(ctx, op, who, slot, p.value), delayMs) !== undefined);
          if (!confirmed) continue;
          ctx.report(finding(RULE, SEVERITY[p.family], `${label(op)} (${slot.in} ${slot.name})`, `${p.family.toUpperCase()} injection: the payload ${JSON.stringify(p.value)} in ${slot.name} ${why}.`,
            p.family === 'sql' ? 'Use parameterized queries or an ORM\'s bound parameters everywhere; validate types at the edge (the gateway\'s OpenAPI contract and injection detection in block mode).'
              : p.family === 'nosql' ? 'Reject objects where scalars are expected (validate the body against its schema) and never pass client input as query operators.'
                : p.family === 'command' ? 'Never build shell commands from input; call programs with an argument array (execFile) and an allowlist of values.'
                  : 'Never compile templates from input; pass input as data to a fixed template with auto-escaping.',
            [ex.evidence]));
          break;
        }
      }
    }
  },
};

/** Why the exchange proves injection, or undefined. */
function judge(p: Payload, base: Exchange, ex: Exchange, delayMs: number): string | undefined {
  if (p.sleeps) {
    return ex.durationMs >= base.durationMs + delayMs * 0.8 ? `delayed the response by ${Math.round(ex.durationMs - base.durationMs)} ms (asked for ${delayMs} ms)` : undefined;
  }
  if (p.proof !== undefined && p.proof.test(ex.text) && !p.proof.test(base.text)) return 'was evaluated: its result appears in the response';
  const sigs = matchSignatures(ex.text, FAMILY_SIGNATURES[p.family], base.text);
  if (sigs.length > 0) return `caused a ${sigs[0]!.name} error`;
  if (p.family === 'nosql' && typeof p.value === 'object' && ok(ex) && !ok(base) && base.status !== 0) return `turned a rejected request (HTTP ${base.status}) into an accepted one (HTTP ${ex.status})`;
  return undefined;
}
