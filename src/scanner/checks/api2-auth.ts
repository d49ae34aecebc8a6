/**
 * API2 Broken Authentication: protected operations answered without credentials or with forged
 * ones (malformed, `alg: none`, wrongly signed, expired JWTs; another environment's API key), and
 * login operations that never lock out or throttle repeated failures.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { callOperation, DESTRUCTIVE, finding, label, ok, requiresAuth, sampleBody, type Check, type ScanContext } from '../context.js';
import type { Identity } from '../http.js';
import { isObject, type Operation } from '../openapi.js';

const RULES = {
  anonymous: { id: 'API2-no-credentials', category: 'API2', title: 'Protected operation answers without credentials' },
  forged: { id: 'API2-forged-credentials', category: 'API2', title: 'Protected operation accepts forged credentials' },
  lockout: { id: 'API2-no-lockout', category: 'API2', title: 'Login does not lock out or throttle repeated failures' },
} as const;

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Claims of a JWT, or undefined when the value is not one. */
function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return isObject(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** Forged variants of an identity's credential, each named for the report. */
export function forgeries(identity: Identity): { name: string; value: string }[] {
  const scheme = /^(Bearer|Token)\s+/i.exec(identity.value)?.[0] ?? '';
  const token = identity.value.slice(scheme.length);
  const out: { name: string; value: string }[] = [];
  const claims = jwtClaims(token);
  if (claims !== undefined || /^authorization$/i.test(identity.header)) {
    const base = claims ?? { sub: identity.name };
    const now = Math.floor(Date.now() / 1000);
    const hs = (payload: unknown): string => {
      const signing = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
      return `${signing}.${createHmac('sha256', randomBytes(32)).update(signing).digest('base64url')}`;
    };
    out.push({ name: 'malformed JWT', value: `${scheme || 'Bearer '}rampart.scan.malformed` });
    out.push({ name: 'alg:none JWT', value: `${scheme || 'Bearer '}${b64({ alg: 'none', typ: 'JWT' })}.${b64(base)}.` });
    out.push({ name: 'JWT signed with an unknown key', value: `${scheme || 'Bearer '}${hs(base)}` });
    out.push({ name: 'expired JWT', value: `${scheme || 'Bearer '}${hs({ ...base, iat: now - 7200, exp: now - 3600 })}` });
  }
  // rk_live_… ↔ rk_test_…: a key minted for another environment must not work here.
  const swapped = token.replace(/(^|[_-])(live|prod|test|dev|sandbox)(?=[_-])/i, (_m, sep: string, env: string) => `${sep}${/live|prod/i.test(env) ? 'test' : 'live'}`);
  if (swapped !== token) out.push({ name: "another environment's key", value: `${scheme}${swapped}` });
  return out;
}

export const authCheck: Check = {
  category: 'API2',
  rules: Object.values(RULES),
  async run(ctx) {
    const protectedOps = ctx.spec.operations.filter((op) => requiresAuth(op) && !(ctx.settings.safe && DESTRUCTIVE.has(op.method)) && op.method !== 'DELETE');
    const user = ctx.users[0] ?? ctx.identities[0]!;
    const forged = forgeries(user);
    for (const op of protectedOps) {
      const anon = await callOperation(ctx, op, null);
      if (ok(anon)) {
        ctx.report(finding(RULES.anonymous, 'critical', label(op), `${label(op)} declares security but answered HTTP ${anon.status} to a request with no credentials.`,
          'Authenticate every operation that the spec marks as protected, at the gateway or in the service, and deny by default (401 with WWW-Authenticate).', [anon.evidence]));
        continue;
      }
      for (const f of forged) {
        const ex = await callOperation(ctx, op, { ...user, value: f.value });
        if (!ok(ex)) continue;
        ctx.report(finding(RULES.forged, 'critical', label(op), `${label(op)} accepted a ${f.name} (HTTP ${ex.status}).`,
          'Verify every token: signature with a pinned algorithm list (never "none"), expiry and not-before with little clock skew, issuer and audience; keep keys per environment.', [ex.evidence]));
        break;
      }
    }
    for (const op of ctx.spec.operations.filter(isLogin)) await probeLockout(ctx, op);
  },
};

/** Public POST operations that take a password. */
function isLogin(op: Operation): boolean {
  if (op.method !== 'POST' || requiresAuth(op)) return false;
  return Object.keys(sampleBody(op) ?? {}).some((k) => /pass(word)?|pwd|secret/i.test(k)) || /login|signin|sign-in|session|token/i.test(op.path);
}

async function probeLockout(ctx: ScanContext, op: Operation): Promise<void> {
  const body = sampleBody(op) ?? {};
  const passwordKey = Object.keys(body).find((k) => /pass(word)?|pwd|secret/i.test(k)) ?? 'password';
  const attempts = ctx.settings.lockoutAttempts;
  let last;
  for (let i = 0; i < attempts; i++) {
    last = await callOperation(ctx, op, null, { body: { ...body, [passwordKey]: `wrong-${randomBytes(6).toString('hex')}` } });
    // 429 / 423 or a Retry-After: the service noticed.
    if (last.status === 429 || last.status === 423 || last.headers['retry-after'] !== undefined || last.status === 0) return;
  }
  if (last === undefined || ok(last)) return;
  ctx.report(finding(RULES.lockout, 'medium', label(op), `${attempts} failed logins for the same account in a row were all answered HTTP ${last.status}, with no lockout, throttling or Retry-After.`,
    'Throttle failed logins per account and per client address (e.g. 5 per 15 minutes, then 429 with Retry-After) and alert on credential stuffing.', [last.evidence]));
}
