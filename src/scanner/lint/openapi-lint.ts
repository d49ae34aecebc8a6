/**
 * Posture of an OpenAPI document: authentication declared and applied, transport, and the bounds
 * (maxLength, maxItems, maximum, additionalProperties) that let a gateway validate input tightly.
 */
import type { ApiSpec, JsonSchema, Operation } from '../openapi.js';
import { flatten, schemaType } from '../openapi.js';
import { requiresAuth } from '../context.js';
import type { Finding, RuleInfo, Severity } from '../types.js';

export const OPENAPI_RULES = {
  noSchemes: { id: 'LINT-openapi-no-security-schemes', category: 'LINT', title: 'OpenAPI document declares no security scheme' },
  publicOps: { id: 'LINT-openapi-unauthenticated-operation', category: 'LINT', title: 'Operations without security requirements' },
  httpServer: { id: 'LINT-openapi-plain-http-server', category: 'LINT', title: 'Server URL uses plain HTTP' },
  weakScheme: { id: 'LINT-openapi-weak-scheme', category: 'LINT', title: 'Weak security scheme' },
  unbounded: { id: 'LINT-openapi-unbounded-input', category: 'LINT', title: 'Inputs without size bounds' },
  openBody: { id: 'LINT-openapi-open-body', category: 'LINT', title: 'Request body accepts undeclared properties' },
} as const satisfies Record<string, RuleInfo>;

const LOOPBACK_URL = /^http:\/\/(localhost|127(\.\d+){3}|\[::1\])(:\d+)?(\/|$)/i;
const PAGE_PARAM = /^(limit|size|page_?size|per_?page|count|max|top|take|first)$/i;

function make(rule: RuleInfo, severity: Severity, location: string, description: string, remediation: string): Finding {
  return { ruleId: rule.id, category: rule.category, severity, title: rule.title, description, remediation, location, evidence: [] };
}

/**
 * @example
 *   lintSpec(loadSpecFile('openapi.yaml'), 'openapi.yaml').map((f) => f.ruleId)
 */
export function lintSpec(spec: ApiSpec, file: string): Finding[] {
  const out: Finding[] = [];
  const at = (where: string): string => `${file}: ${where}`;
  if (Object.keys(spec.securitySchemes).length === 0) {
    out.push(make(OPENAPI_RULES.noSchemes, 'high', at('components.securitySchemes'), 'No security scheme is declared, so nothing in the contract says how callers authenticate.',
      'Declare the schemes the API uses (http bearer, apiKey in a header, oauth2, mutualTLS) and apply them globally with "security".'));
  }
  const open = spec.operations.filter((op) => !requiresAuth(op) && !/login|signin|sign-in|token|health|status|register|signup/i.test(op.path));
  if (open.length > 0) {
    out.push(make(OPENAPI_RULES.publicOps, 'medium', at('paths'), `${open.length} operation(s) have no security requirement: ${open.slice(0, 8).map((o) => `${o.method} ${o.path}`).join(', ')}${open.length > 8 ? ', …' : ''}.`,
      'Apply a global security requirement and mark intentionally public operations with "security: []" so that the choice is explicit.'));
  }
  for (const url of spec.servers.filter((u) => /^http:/i.test(u) && !LOOPBACK_URL.test(u))) {
    out.push(make(OPENAPI_RULES.httpServer, 'medium', at(`servers (${url})`), `${url} is plain HTTP.`, 'Publish HTTPS server URLs only.'));
  }
  for (const [name, scheme] of Object.entries(spec.securitySchemes)) {
    const weak = scheme.type === 'apiKey' && scheme.in === 'query' ? 'an API key in the query string (it ends up in logs and caches)'
      : scheme.type === 'http' && String(scheme.scheme).toLowerCase() === 'basic' ? 'HTTP Basic (a long-lived password on every request)'
        : scheme.type === 'oauth2' && typeof scheme.flows === 'object' && scheme.flows !== null && 'implicit' in scheme.flows ? 'the OAuth2 implicit flow (deprecated by OAuth 2.1)' : undefined;
    if (weak !== undefined) out.push(make(OPENAPI_RULES.weakScheme, 'medium', at(`components.securitySchemes.${name}`), `Scheme ${name} uses ${weak}.`, 'Use bearer tokens or API keys in a header, and the authorization-code flow with PKCE.'));
  }
  for (const op of spec.operations) {
    const unbounded = unboundedInputs(op);
    if (unbounded.length > 0) {
      out.push(make(OPENAPI_RULES.unbounded, unbounded.some((u) => u.startsWith('page size')) ? 'medium' : 'low', at(`${op.method} ${op.path}`), `Unbounded: ${unbounded.slice(0, 8).join(', ')}${unbounded.length > 8 ? ', …' : ''}.`,
        'Give every free-text string a maxLength (or a pattern/enum/format), every array a maxItems and every page size a maximum, so the gateway can reject oversized input.'));
    }
    if (op.body !== undefined && ['POST', 'PUT', 'PATCH'].includes(op.method)) {
      const body = flatten(op.body);
      if (schemaType(body) === 'object' && body.additionalProperties !== false) {
        out.push(make(OPENAPI_RULES.openBody, 'low', at(`${op.method} ${op.path} requestBody`), 'The body schema does not set additionalProperties: false, so unknown (mass-assignment) properties validate.',
          'Set additionalProperties: false on request bodies and mark server-owned fields readOnly.'));
      }
    }
  }
  return out;
}

function unboundedInputs(op: Operation): string[] {
  const out: string[] = [];
  for (const p of op.parameters) {
    if (PAGE_PARAM.test(p.name) && ['integer', 'number'].includes(schemaType(p.schema) ?? '') && p.schema.maximum === undefined) out.push(`page size ${p.in} ${p.name} has no maximum`);
    else out.push(...unboundedSchema(p.schema, `${p.in} ${p.name}`, 0));
  }
  if (op.body !== undefined) out.push(...unboundedSchema(op.body, 'body', 0));
  return out;
}

function unboundedSchema(input: JsonSchema, where: string, depth: number): string[] {
  if (depth > 6) return [];
  const schema = flatten(input);
  if (schema.readOnly === true) return [];
  switch (schemaType(schema)) {
    case 'string':
      return schema.maxLength === undefined && schema.enum === undefined && schema.pattern === undefined && !['date', 'date-time', 'uuid', 'email', 'binary', 'byte'].includes(schema.format ?? '') ? [`${where} (string without maxLength)`] : [];
    case 'array':
      return [...(schema.maxItems === undefined ? [`${where} (array without maxItems)`] : []), ...(schema.items ? unboundedSchema(schema.items, `${where}[]`, depth + 1) : [])];
    case 'object':
      return Object.entries(schema.properties ?? {}).flatMap(([k, v]) => unboundedSchema(v, `${where}.${k}`, depth + 1));
    default:
      return [];
  }
}
