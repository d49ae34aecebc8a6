/**
 * API3 Broken Object Property Level Authorization: mass assignment (readOnly or undeclared
 * properties that the API accepts and reflects) and excessive data exposure (responses carrying
 * secrets, SSNs or card numbers, or properties the spec does not declare).
 */
import { callOperation, DESTRUCTIVE, declaredProperties, fillPath, finding, idOf, label, ok, sampleBody, type Check, type ScanContext } from '../context.js';
import { flatten, isObject, schemaType, type JsonSchema, type Operation } from '../openapi.js';
import { isCardNumber, SENSITIVE_KEY, SSN } from '../signatures.js';

const RULES = {
  massAssignment: { id: 'API3-mass-assignment', category: 'API3', title: 'Read-only or undeclared property accepted from the client' },
  sensitive: { id: 'API3-sensitive-data', category: 'API3', title: 'Response exposes sensitive data' },
  undeclared: { id: 'API3-undeclared-property', category: 'API3', title: 'Response carries properties the spec does not declare' },
} as const;

/** Privilege-flavoured properties an attacker would try to set. */
const UNDECLARED: Record<string, unknown> = { isAdmin: true, is_admin: true, role: 'rampart-scan-admin', roles: ['rampart-scan-admin'], verified: true };

function marker(schema: JsonSchema): unknown {
  switch (schemaType(flatten(schema))) {
    case 'integer':
    case 'number':
      return 987654321;
    case 'boolean':
      return true;
    case 'array':
      return ['rampart-scan-ro'];
    case 'object':
      return { rampartScan: 'ro' };
    default:
      return 'rampart-scan-ro';
  }
}

export const propertyCheck: Check = {
  category: 'API3',
  rules: Object.values(RULES),
  async run(ctx) {
    for (const op of ctx.spec.operations) {
      if (op.body === undefined || !['POST', 'PUT', 'PATCH'].includes(op.method)) continue;
      if (ctx.settings.safe && DESTRUCTIVE.has(op.method)) continue;
      await massAssignment(ctx, op);
    }
    for (const op of ctx.spec.operations.filter((o) => o.method === 'GET')) {
      for (const who of [ctx.users[0], ...ctx.admins]) {
        if (who === undefined) continue;
        const ex = await callOperation(ctx, op, who, { path: fillPath(ctx, op, who) });
        if (!ok(ex) || ex.json === undefined) continue;
        exposure(ctx, op, ex.json, ex.evidence);
      }
    }
  },
};

async function massAssignment(ctx: ScanContext, op: Operation): Promise<void> {
  const schema = flatten(op.body!);
  const injected: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) if (prop.readOnly === true) injected[key] = marker(prop);
  const declared = declaredProperties(op.body);
  for (const [key, value] of Object.entries(UNDECLARED)) if (!declared.has(key)) injected[key] = value;
  const who = ctx.users[0] ?? ctx.identities[0]!;
  const ex = await callOperation(ctx, op, who, { body: { ...sampleBody(op), ...injected } });
  if (!ok(ex)) return;
  // Read the object back when the write response does not echo it.
  let echo: unknown = ex.json;
  const evidence = [ex.evidence];
  const item = ctx.spec.operations.find((o) => o.method === 'GET' && o.path.startsWith(op.path) && /^\/\{[^}/]+\}$/.test(o.path.slice(op.path.length)));
  const id = idOf(ex.json);
  if (item !== undefined && id !== undefined && op.method === 'POST') {
    const back = await callOperation(ctx, item, who, { path: item.path.replace(/\{[^}]+\}$/, encodeURIComponent(id)) });
    if (ok(back)) {
      echo = back.json;
      evidence.push(back.evidence);
    }
  }
  if (!isObject(echo)) return;
  const taken = Object.entries(injected).filter(([k, v]) => JSON.stringify(echo[k]) === JSON.stringify(v)).map(([k]) => k);
  if (taken.length === 0) return;
  ctx.report(finding(RULES.massAssignment, 'high', label(op), `The API stored client-supplied ${taken.map((k) => JSON.stringify(k)).join(', ')} (read-only or undeclared) and returned them.`,
    'Bind request bodies to an explicit allowlist of writable properties (reject or drop readOnly and unknown ones; additionalProperties: false), and set server-owned fields (owner, role, id) on the server.', evidence));
}

/** Reports sensitive-looking and undeclared properties in a response. */
function exposure(ctx: ScanContext, op: Operation, json: unknown, evidence: Parameters<typeof finding>[5][number]): void {
  const hits: string[] = [];
  walk(json, '$', (path, key, value) => {
    if (typeof value === 'string' && value !== '' && (SENSITIVE_KEY.test(key) || SSN.test(value) || isCardNumber(value))) hits.push(path);
  });
  if (hits.length > 0) {
    ctx.report(finding(RULES.sensitive, 'high', label(op), `Response carries sensitive-looking values at ${hits.slice(0, 5).join(', ')}.`,
      'Serialise responses from an explicit view model; never return password hashes, secrets, SSNs or card numbers (mask them if a client truly needs a hint).', [evidence]));
  }
  const declared = op.response === undefined ? undefined : flatten(op.response);
  if (declared?.properties === undefined || declared.additionalProperties === true || !isObject(json)) return;
  const extra = Object.keys(json).filter((k) => !(k in declared.properties!));
  if (extra.length === 0) return;
  ctx.report(finding(RULES.undeclared, 'low', label(op), `Response carries properties the spec does not declare: ${extra.slice(0, 10).join(', ')}.`,
    'Return only the properties the contract declares (a response filter at the gateway, or a view model in the service); declare the rest if they are intended.', [evidence]));
}

function walk(value: unknown, path: string, visit: (path: string, key: string, value: unknown) => void, depth = 0): void {
  if (depth > 8) return;
  if (Array.isArray(value)) value.slice(0, 50).forEach((v, i) => walk(v, `${path}[${i}]`, visit, depth + 1));
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      visit(`${path}.${k}`, k, v);
      walk(v, `${path}.${k}`, visit, depth + 1);
    }
  }
}
