/**
 * Client authentication at the token, introspection and revocation endpoints: `client_secret_basic`,
 * `client_secret_post` (secrets compared by hash in constant time) and `private_key_jwt` (RFC 7523,
 * single-use assertion ids). Exactly one method per request (RFC 6749 §2.3).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import type { OAuthClient, OAuthStore } from './store.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Algorithms a client may sign its assertion with (asymmetric only: the server holds no client secrets in clear). */
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];
/** An assertion may live at most this long, milliseconds: bounds the replay-protection table. */
const MAX_ASSERTION_LIFETIME_MS = 10 * 60_000;

export type ClientAuthResult =
  | { readonly ok: true; readonly client: OAuthClient }
  | { readonly ok: false; readonly error: 'invalid_client' | 'invalid_request'; readonly reason: string; readonly clientId: string | undefined; readonly basic: boolean };

/** Hex SHA-256 of a client secret: secrets are 256-bit random, so a slow hash adds nothing. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function secretMatches(client: OAuthClient | undefined, secret: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  // Hash and compare even for unknown clients, so timing does not tell which client ids exist.
  const stored = Buffer.from(client?.secretHash ?? '0'.repeat(64), 'hex');
  return timingSafeEqual(presented, stored) && client?.secretHash !== null && client !== undefined;
}

function parseBasic(header: string): { id: string; secret: string } | undefined {
  if (header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return undefined;
  }
}

/**
 * @example
 *   const r = await authenticateClient(req.headers.authorization, form, store, { audiences: [tokenUrl, issuer], now: Date.now() });
 */
export async function authenticateClient(
  authorization: string | undefined,
  form: URLSearchParams,
  store: OAuthStore,
  options: { audiences: string[]; now: number },
): Promise<ClientAuthResult> {
  const basic = authorization !== undefined;
  const assertion = form.get('client_assertion');
  const postSecret = form.get('client_secret');
  const methods = (basic ? 1 : 0) + (assertion !== null ? 1 : 0) + (postSecret !== null ? 1 : 0);
  const fail = (error: 'invalid_client' | 'invalid_request', reason: string, clientId: string | undefined): ClientAuthResult => ({ ok: false, error, reason, clientId, basic });
  if (methods === 0) return fail('invalid_client', 'no client authentication', form.get('client_id') ?? undefined);
  if (methods > 1) return fail('invalid_request', 'more than one client authentication method', form.get('client_id') ?? undefined);

  if (assertion !== null) {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) return fail('invalid_request', 'unsupported client_assertion_type', undefined);
    let iss: string | undefined;
    try {
      const claims = decodeJwt(assertion);
      iss = typeof claims.iss === 'string' ? claims.iss : undefined;
    } catch {
      return fail('invalid_client', 'client_assertion is not a JWT', undefined);
    }
    if (iss === undefined) return fail('invalid_client', 'client_assertion has no iss', undefined);
    const named = form.get('client_id');
    if (named !== null && named !== iss) return fail('invalid_client', 'client_id differs from the assertion issuer', named);
    const client = await store.getClient(iss);
    if (client === undefined || client.jwks === null) return fail('invalid_client', 'unknown client or client without keys', iss);
    try {
      const { payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: [...client.jwks] } as JSONWebKeySet), {
        issuer: client.id,
        subject: client.id,
        audience: options.audiences,
        algorithms: ASSERTION_ALGORITHMS,
        requiredClaims: ['jti', 'exp'],
        currentDate: new Date(options.now),
        clockTolerance: 30,
      });
      const exp = payload.exp! * 1000;
      if (exp - options.now > MAX_ASSERTION_LIFETIME_MS) return fail('invalid_client', 'client_assertion lives too long', client.id);
      if (!(await store.useAssertion(`${client.id}:${String(payload.jti)}`, exp))) return fail('invalid_client', 'client_assertion replayed', client.id);
    } catch (err) {
      return fail('invalid_client', `client_assertion rejected: ${(err as Error).message}`, client.id);
    }
    return client.status === 'active' ? { ok: true, client } : fail('invalid_client', 'client revoked', client.id);
  }

  const credentials = basic ? parseBasic(authorization) : { id: form.get('client_id') ?? '', secret: postSecret ?? '' };
  if (credentials === undefined || credentials.id === '') return fail('invalid_client', 'malformed client credentials', undefined);
  if (basic && form.get('client_id') !== null && form.get('client_id') !== credentials.id) return fail('invalid_request', 'client_id differs from the Basic credentials', credentials.id);
  const client = await store.getClient(credentials.id);
  if (!secretMatches(client, credentials.secret)) return fail('invalid_client', client === undefined ? 'unknown client' : 'wrong client secret', credentials.id);
  return client!.status === 'active' ? { ok: true, client: client! } : fail('invalid_client', 'client revoked', credentials.id);
}
