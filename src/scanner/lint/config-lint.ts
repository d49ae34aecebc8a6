/**
 * Posture of a Rampart configuration. Stage checks are keyed on stage `type` strings (and read
 * options loosely), so they apply to every stage type, including ones registered after this
 * module was written; a config that uses none of them simply gets the "missing" findings.
 */
import { parse as parseYaml } from 'yaml';
import type { Finding, RuleInfo, Severity } from '../types.js';
import { isObject } from '../openapi.js';

export const CONFIG_RULES = {
  tlsOff: { id: 'LINT-tls-off', category: 'LINT', title: 'Gateway serves plain HTTP' },
  admin: { id: 'LINT-admin-exposed', category: 'LINT', title: 'Admin listener on a non-loopback address' },
  noAuth: { id: 'LINT-route-no-auth', category: 'LINT', title: 'Route without authentication' },
  noAuthz: { id: 'LINT-route-no-authz', category: 'LINT', title: 'Route without authorization' },
  noRateLimit: { id: 'LINT-route-no-rate-limit', category: 'LINT', title: 'Route without a rate limit' },
  cors: { id: 'LINT-cors-wildcard', category: 'LINT', title: 'Permissive CORS' },
  jwt: { id: 'LINT-jwt-weak-algorithms', category: 'LINT', title: 'Weak JWT algorithm list' },
  waf: { id: 'LINT-injection-detect-only', category: 'LINT', title: 'Injection detection does not block' },
  upstreamTls: { id: 'LINT-upstream-tls-verify-off', category: 'LINT', title: 'Upstream certificate not verified' },
  upstreamHttp: { id: 'LINT-upstream-plain-http', category: 'LINT', title: 'Plain-HTTP upstream to a non-loopback host' },
  secret: { id: 'LINT-inline-secret', category: 'LINT', title: 'Secret written inline in the config' },
  uncovered: { id: 'LINT-openapi-uncovered-operation', category: 'LINT', title: 'Operations in the spec that no route covers' },
} as const satisfies Record<string, RuleInfo>;

/** Stage type names by what they do (aliases included so later stage names are recognised). */
export const STAGE_KINDS = {
  // oauth2_server endpoints authenticate and authorize their clients themselves; anonymous is an explicit choice.
  authenticate: ['api_key', 'api-key', 'apikey', 'jwt', 'oauth2', 'oauth', 'introspection', 'mtls', 'basic_auth', 'hmac', 'oauth2_server', 'anonymous'],
  authorize: ['rbac', 'scopes', 'policy', 'authorize', 'abac', 'bola', 'object_level', 'opa', 'oauth2_server'],
  rateLimit: ['rate_limit', 'rate-limit', 'ratelimit', 'quota', 'concurrency'],
  waf: ['waf', 'injection', 'inspect'],
  openapi: ['openapi', 'contract', 'validate'],
} as const;

export type StageView = { readonly type: string } & Readonly<Record<string, unknown>>;

/** The parts of a (loaded) config the linter reads; a RampartConfig is one. */
export interface ConfigView {
  readonly listeners: {
    readonly https: { readonly enabled: boolean; readonly host: string };
    readonly http: { readonly enabled: boolean; readonly host: string; readonly mode: string };
  };
  readonly admin: { readonly enabled: boolean; readonly host: string };
  readonly upstreams: Readonly<Record<string, { readonly url: string; readonly tls?: { readonly verify?: boolean } }>>;
  readonly stages: readonly StageView[];
  readonly routes: readonly { readonly id: string; readonly path: string; readonly methods?: readonly string[]; readonly stages: readonly StageView[] }[];
}

const LOOPBACK_HOST = /^(localhost|127(\.\d+){3}|::1|\[::1\])$/i;
const AUTH_PATH = /login|signin|sign-in|token|oauth|auth|session|password|register|signup/i;
const SECRET_KEY = /(secret|password|passwd|token|api_?key|apikey|private_?key|hmac|credentials?)$/i;

function make(rule: RuleInfo, severity: Severity, location: string, description: string, remediation: string): Finding {
  return { ruleId: rule.id, category: rule.category, severity, title: rule.title, description, remediation, location, evidence: [] };
}

function has(stages: readonly StageView[], kind: keyof typeof STAGE_KINDS): StageView[] {
  return stages.filter((s) => (STAGE_KINDS[kind] as readonly string[]).includes(s.type));
}

/**
 * @example
 *   lintConfig(loadConfigFile('rampart.yaml').config, 'rampart.yaml')
 */
export function lintConfig(config: ConfigView, file: string): Finding[] {
  const out: Finding[] = [];
  const at = (where: string): string => `${file}: ${where}`;
  const { https, http } = config.listeners;
  if (!https.enabled && http.enabled && http.mode === 'serve') {
    const local = LOOPBACK_HOST.test(http.host);
    out.push(make(CONFIG_RULES.tlsOff, local ? 'low' : 'high', at('listeners'), `HTTPS is disabled and the gateway serves plain HTTP on ${http.host}${local ? ' (loopback: acceptable only behind a local TLS terminator)' : ''}.`,
      'Enable listeners.https (TLS 1.2+), or keep plain HTTP on loopback behind a TLS-terminating load balancer only.'));
  }
  if (config.admin.enabled && !LOOPBACK_HOST.test(config.admin.host)) {
    out.push(make(CONFIG_RULES.admin, 'high', at('admin.host'), `The admin API listens on ${config.admin.host}, not on loopback.`,
      'Bind admin.host to 127.0.0.1 and reach it through an SSH tunnel or a private network with its own access control.'));
  }
  for (const [name, up] of Object.entries(config.upstreams)) {
    if (up.tls?.verify === false) {
      out.push(make(CONFIG_RULES.upstreamTls, 'high', at(`upstreams.${name}.tls.verify`), `Upstream ${name}'s certificate is not verified, so anyone on the path can impersonate it.`, 'Keep tls.verify: true and give the upstream CA with tls.ca.'));
    }
    const m = /^http:\/\/(\[[^\]]+\]|[^/:]+)/i.exec(up.url);
    if (m !== null && !LOOPBACK_HOST.test(m[1]!)) {
      out.push(make(CONFIG_RULES.upstreamHttp, 'medium', at(`upstreams.${name}.url`), `Upstream ${name} is reached over plain HTTP at ${m[1]}.`, 'Use https:// upstreams (with verification) for anything not on loopback.'));
    }
  }
  for (const [i, route] of config.routes.entries()) {
    const stages = [...config.stages, ...route.stages];
    const where = at(`routes[${i}] (${route.id})`);
    const auth = has(stages, 'authenticate');
    if (auth.length === 0) {
      out.push(make(CONFIG_RULES.noAuth, 'high', where, `Route ${route.id} (${route.path}) has no authentication stage: every caller is anonymous.`, 'Add an authentication stage (api_key, jwt, oauth2 or mtls) to the route or to the global stages.'));
    } else if (has(stages, 'authorize').length === 0) {
      out.push(make(CONFIG_RULES.noAuthz, 'medium', where, `Route ${route.id} authenticates callers but authorizes nothing (no role, scope or policy stage).`, 'Add an authorization stage (rbac, scopes or policy) so that being authenticated is not enough.'));
    }
    if (has(stages, 'rateLimit').length === 0) {
      const authEndpoint = AUTH_PATH.test(route.path);
      out.push(make(CONFIG_RULES.noRateLimit, authEndpoint ? 'high' : 'medium', where, `Route ${route.id} (${route.path}) has no rate limit${authEndpoint ? ', and it serves authentication (credential stuffing, brute force)' : ''}.`, 'Add a rate_limit stage (per consumer and per address), tighter on authentication endpoints.'));
    }
    for (const cors of stages.filter((s) => s.type === 'cors')) {
      const origins = Array.isArray(cors.origins) ? cors.origins.map(String) : [];
      if (origins.includes('*')) {
        out.push(make(CONFIG_RULES.cors, cors.credentials === true ? 'high' : 'medium', where, `CORS allows any origin${cors.credentials === true ? ' with credentials' : ''}.`, 'List the exact origins of your web apps; use "*" only for public, credential-less data.'));
      } else if (origins.some((o) => /^http:\/\//i.test(o) && !/^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/i.test(o))) {
        out.push(make(CONFIG_RULES.cors, 'low', where, 'CORS trusts a plain-HTTP origin, which a network attacker can impersonate.', 'Trust https:// origins only.'));
      }
    }
    for (const jwt of stages.filter((s) => s.type === 'jwt')) {
      const algs = Array.isArray(jwt.algorithms) ? jwt.algorithms.map((a) => String(a)) : undefined;
      const weak = algs === undefined ? 'no pinned algorithm list' : algs.some((a) => a.toLowerCase() === 'none') ? '"none" is allowed' : algs.some((a) => /^HS/.test(a)) && algs.some((a) => /^(RS|ES|PS|Ed)/.test(a)) ? 'symmetric and asymmetric algorithms are mixed (key confusion)' : undefined;
      if (weak !== undefined) out.push(make(CONFIG_RULES.jwt, algs?.some((a) => a.toLowerCase() === 'none') ? 'critical' : 'high', where, `JWT stage: ${weak}.`, 'Pin algorithms to what your issuer uses (e.g. [RS256] or [EdDSA]); never none; never mix HS* with public-key algorithms.'));
    }
    for (const waf of has(stages, 'waf')) {
      const mode = String(waf.mode ?? waf.action ?? '');
      if (/monitor|detect|log|report/i.test(mode)) {
        out.push(make(CONFIG_RULES.waf, 'high', where, `Injection detection runs in ${mode} mode: attacks are logged but reach the upstream.`, 'Switch the stage to mode: block once the false-positive rate is acceptable.'));
      }
    }
  }
  return out;
}

/**
 * Finds secrets written literally in the YAML (instead of `${env:NAME}` or `${file:PATH}`).
 * Works on the raw text, before interpolation.
 */
export function lintInlineSecrets(text: string, file: string): Finding[] {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch {
    return [];
  }
  const out: Finding[] = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${path}[${i}]`));
    else if (isObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        const p = path === '' ? k : `${path}.${k}`;
        if (typeof v === 'string' && SECRET_KEY.test(k) && v.length > 0 && !/^\$\{(env|file):/.test(v.trim())) {
          out.push(make(CONFIG_RULES.secret, 'high', `${file}: ${p}`, `${p} holds a literal secret (value not shown).`, `Write ${k}: \${env:NAME} or \${file:/run/secrets/NAME} and keep the value out of the repository.`));
        } else visit(v, p);
      }
    }
  };
  visit(raw, '');
  return out;
}

/** Route path pattern (`/pets/**`, `/pets/{id}`) → does it cover the spec path? */
export function routeCovers(pattern: string, specPath: string): boolean {
  const concrete = specPath.replace(/\{[^}]+\}/g, 'x');
  const re = pattern
    .split('/')
    .map((seg) => (seg === '**' ? '.*' : /^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${re.replace(/\/\.\*$/, '(/.*)?')}$`).test(concrete);
}
