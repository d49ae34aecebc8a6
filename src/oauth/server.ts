/**
 * The built-in OAuth 2.0 authorization server for machine clients: `client_credentials` (RFC 6749
 * §4.4), RFC 9068 JWT access tokens, JWKS, RFC 8414 metadata, RFC 7662 introspection and RFC 7009
 * revocation. One instance per gateway process, shared by config versions; its state is in the store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import type { RequestContext } from '../core/context.js';
import { importPublicJwk } from '../auth/key-set.js';
import { clientCertificate } from '../auth/certificate.js';
import { authenticateClient, hashSecret, ASSERTION_ALGORITHMS } from './client-auth.js';
import type { OAuthConfig } from './config.js';
import { clientRevocationKey, RevocationList } from './revocations.js';
import { SigningKeyRing } from './signing-keys.js';
import { SqlOAuthStore, type OAuthClient, type OAuthStore } from './store.js';
import type { Store } from '../stores/contracts.js';
import type { SecretVault } from '../keys/secret-box.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** What `createClient` returns: the secret is shown once and never stored in clear. */
export interface CreatedClient {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly name: string;
  readonly scopes: readonly string[];
}

/** The public view of a client (admin API, CLI). */
export function describeClient(c: OAuthClient): Record<string, unknown> {
  return { client_id: c.id, name: c.name, scopes: c.scopes, status: c.status, auth: c.jwks === null ? 'client_secret' : 'private_key_jwt', created_at: new Date(c.createdAt).toISOString(), revoked_at: c.revokedAt === null ? null : new Date(c.revokedAt).toISOString() };
}

export interface OAuthServerDeps {
  /** The gateway's store: `sql` for the OAuth tables, signing-key records. */
  readonly store: Store;
  /** Private signing keys, as encrypted secrets `signing/<kid>`. */
  readonly secrets: SecretVault;
  readonly logger: Logger;
  readonly now?: () => number;
}

class OAuthRefusal extends Error {
  constructor(readonly status: number, readonly error: string, readonly reason: string, readonly headers: Record<string, string> = {}) {
    super(reason);
  }
}

/**
 * @example
 *   const oauth = await OAuthServer.start(config.oauth, { store: services.store, secrets: services.secrets, logger });
 *   const { client_id, client_secret } = await oauth.createClient({ name: 'billing', scopes: ['pets:read'] });
 */
export class OAuthServer {
  readonly revocations: RevocationList;
  readonly keys: SigningKeyRing;
  private purgeTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly tokenUrl: string;

  private constructor(
    readonly config: OAuthConfig,
    readonly store: OAuthStore,
    deps: OAuthServerDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.keys = new SigningKeyRing(deps.store, deps.secrets, {
      alg: config.algorithm,
      rotationMs: config.rotationSeconds * 1000,
      now: this.now,
    });
    this.revocations = new RevocationList(store, { pollMs: config.revocationPollMs, logger: deps.logger, now: this.now });
    this.tokenUrl = `${config.issuer}/oauth/token`;
  }

  /** Prepares signing keys and the revocation list on the shared store (whose migrations created our tables). */
  static async start(config: OAuthConfig, deps: OAuthServerDeps): Promise<OAuthServer> {
    const store = new SqlOAuthStore(deps.store.sql);
    const server = new OAuthServer(config, store, deps);
    try {
      await server.keys.sync();
      await server.revocations.start();
    } catch (err) {
      await server.close();
      throw err;
    }
    server.purgeTimer = setInterval(() => void store.purgeExpired(server.now()).catch(() => undefined), 600_000);
    server.purgeTimer.unref();
    return server;
  }

  async close(): Promise<void> {
    clearInterval(this.purgeTimer);
    this.revocations.close();
  }

  // ---- client management (admin API and CLI) ----

  async createClient(input: { name: string; scopes: readonly string[]; jwks?: readonly JWK[] }): Promise<CreatedClient> {
    for (const s of input.scopes) if (!SCOPE_TOKEN.test(s)) throw new Error(`invalid scope ${JSON.stringify(s)}`);
    // Refuses private or symmetric keys up front: a client registers public keys only.
    for (const jwk of input.jwks ?? []) importPublicJwk(jwk);
    const id = `rc_${randomBytes(12).toString('base64url')}`;
    const secret = input.jwks === undefined ? `rcs_${randomBytes(32).toString('base64url')}` : undefined;
    await this.store.createClient({
      id,
      name: input.name,
      secretHash: secret === undefined ? null : hashSecret(secret),
      jwks: input.jwks === undefined ? null : input.jwks.map(({ d: _d, ...pub }) => pub),
      scopes: [...input.scopes],
      status: 'active',
      createdAt: this.now(),
      revokedAt: null,
    });
    return { client_id: id, ...(secret !== undefined ? { client_secret: secret } : {}), name: input.name, scopes: [...input.scopes] };
  }

  // ---- endpoints ----

  metadata(): Record<string, unknown> {
    const base = this.config.issuer;
    const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
    return {
      issuer: base,
      token_endpoint: this.tokenUrl,
      jwks_uri: `${base}/.well-known/jwks.json`,
      introspection_endpoint: `${base}/oauth/introspect`,
      revocation_endpoint: `${base}/oauth/revoke`,
      grant_types_supported: ['client_credentials'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: methods,
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
      introspection_endpoint_auth_methods_supported: methods,
      revocation_endpoint_auth_methods_supported: methods,
      access_token_signing_alg_values_supported: [this.config.algorithm],
    };
  }

  /** Serves the endpoint for `ctx.path`, or returns false when the path is not one of ours. */
  async handle(ctx: RequestContext): Promise<boolean> {
    const path = ctx.path;
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void =>
      ctx.respond(status, JSON.stringify(body), { 'content-type': 'application/json', ...NO_STORE, ...headers });
    if (path === '/.well-known/jwks.json' || path === '/.well-known/oauth-authorization-server') {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return this.refuse(ctx, new OAuthRefusal(405, 'invalid_request', 'method not allowed', { allow: 'GET, HEAD' })), true;
      if (path === '/.well-known/jwks.json') {
        await this.keys.sync();
        ctx.respond(200, JSON.stringify(this.keys.jwks()), { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' });
      } else ctx.respond(200, JSON.stringify(this.metadata()), { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' });
      return true;
    }
    const endpoint = { '/oauth/token': 'token', '/oauth/introspect': 'introspect', '/oauth/revoke': 'revoke' }[path];
    if (endpoint === undefined) return false;
    try {
      if (ctx.method !== 'POST') throw new OAuthRefusal(405, 'invalid_request', 'method not allowed', { allow: 'POST' });
      const form = await this.readForm(ctx);
      const auth = await authenticateClient(ctx.req.headers.authorization, form, this.store, { audiences: [this.tokenUrl, this.config.issuer], now: this.now() });
      if (!auth.ok) {
        ctx.attemptedPrincipal = auth.clientId?.slice(0, 256);
        const status = auth.error === 'invalid_client' ? 401 : 400;
        throw new OAuthRefusal(status, auth.error, auth.reason, status === 401 ? { 'www-authenticate': 'Basic realm="rampart"' } : {});
      }
      ctx.identity = { consumer: auth.client.id, roles: [], scopes: auth.client.scopes, method: 'oauth2' };
      if (endpoint === 'token') json(200, await this.token(ctx, auth.client, form));
      else if (endpoint === 'introspect') json(200, await this.introspect(form.get('token') ?? ''));
      else {
        await this.revoke(auth.client, form.get('token') ?? '');
        json(200, {});
      }
    } catch (err) {
      if (!(err instanceof OAuthRefusal)) throw err;
      this.refuse(ctx, err);
    }
    return true;
  }

  private refuse(ctx: RequestContext, err: OAuthRefusal): void {
    ctx.emit({ type: 'auth.failure', severity: 'low', source: 'oauth2_server', code: 'RAMPART_OAUTH_ERROR', reason: `${err.error}: ${err.reason}`, data: ctx.attemptedPrincipal === undefined ? undefined : { attemptedPrincipal: ctx.attemptedPrincipal } });
    ctx.decidedBy = 'oauth2_server';
    ctx.reason = err.reason;
    // RFC 6749 §5.2 body (what OAuth libraries parse); the reason stays in the event.
    ctx.respond(err.status, JSON.stringify({ error: err.error }), { 'content-type': 'application/json', ...NO_STORE, ...err.headers });
  }

  private async readForm(ctx: RequestContext): Promise<URLSearchParams> {
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') throw new OAuthRefusal(400, 'invalid_request', 'body must be application/x-www-form-urlencoded');
    const form = new URLSearchParams((await ctx.readBody()).toString('utf8'));
    const seen = new Set<string>();
    for (const key of form.keys()) {
      // RFC 6749 §3.2: parameters must not repeat (two grant types or scopes would be ambiguous).
      if (seen.has(key)) throw new OAuthRefusal(400, 'invalid_request', `parameter ${key.slice(0, 40)} repeated`);
      seen.add(key);
    }
    return form;
  }

  private async token(ctx: RequestContext, client: OAuthClient, form: URLSearchParams): Promise<Record<string, unknown>> {
    const grant = form.get('grant_type');
    if (grant === null) throw new OAuthRefusal(400, 'invalid_request', 'grant_type missing');
    if (grant !== 'client_credentials') throw new OAuthRefusal(400, 'unsupported_grant_type', `grant ${grant.slice(0, 60)}`);
    const requested = form.get('scope');
    let scopes = [...client.scopes];
    if (requested !== null) {
      scopes = requested.split(' ').filter((s) => s !== '');
      const extra = scopes.find((s) => !client.scopes.includes(s));
      if (extra !== undefined) throw new OAuthRefusal(400, 'invalid_scope', `scope ${extra.slice(0, 60)} not granted to the client`);
    }
    const signer = await this.keys.signer();
    const iat = Math.floor(this.now() / 1000);
    const claims: JWTPayload = { client_id: client.id, scope: scopes.join(' ') };
    // RFC 8705: a client that presented a verified certificate gets a token bound to it.
    const cert = clientCertificate(ctx.req.socket);
    if (cert?.authorized === true) claims.cnf = { 'x5t#S256': cert.thumbprint };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'at+jwt' })
      .setIssuer(this.config.issuer)
      .setSubject(client.id)
      .setAudience(this.config.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.config.tokenTtlSeconds)
      .setJti(randomUUID())
      .sign(signer.key);
    return { access_token: token, token_type: 'Bearer', expires_in: this.config.tokenTtlSeconds, scope: scopes.join(' ') };
  }

  /** Verifies one of our access tokens; undefined when it is not (or no longer) valid. */
  async verify(token: string): Promise<JWTPayload | undefined> {
    if (token === '' || token.length > 8192) return undefined;
    try {
      const { payload } = await jwtVerify(token, (h) => this.keys.resolve(h), {
        issuer: this.config.issuer,
        algorithms: [this.config.algorithm],
        typ: 'at+jwt',
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(this.now()),
      });
      return payload;
    } catch {
      // Bad signature, expired, unknown key, or the store unreachable while syncing keys: not active.
      return undefined;
    }
  }

  /**
   * Revokes a client and, on every process, every token it holds: a sentinel revocation keyed by the
   * client id, kept for a token lifetime, travels with the per-token revocations.
   */
  async revokeClient(id: string): Promise<boolean> {
    const at = this.now();
    if (!(await this.store.revokeClient(id, at))) return false;
    const record = { jti: clientRevocationKey(id), clientId: id, expiresAt: at + this.config.tokenTtlSeconds * 1000 + 60_000, revokedAt: at };
    await this.store.revokeToken(record);
    this.revocations.add(record);
    return true;
  }

  private async introspect(token: string): Promise<Record<string, unknown>> {
    const payload = await this.verify(token);
    if (payload === undefined || this.revocations.isRevoked(String(payload.jti)) || (typeof payload.client_id === 'string' && this.revocations.isClientRevoked(payload.client_id))) return { active: false };
    const { iss, sub, aud, exp, iat, jti, client_id, scope, cnf } = payload;
    return { active: true, token_type: 'Bearer', iss, sub, aud, exp, iat, jti, client_id, scope, ...(cnf !== undefined ? { cnf } : {}) };
  }

  /** RFC 7009: answers 200 whatever the token was; revokes only the caller's own valid tokens. */
  private async revoke(client: OAuthClient, token: string): Promise<void> {
    const payload = await this.verify(token);
    if (payload === undefined || payload.client_id !== client.id) return;
    const record = { jti: String(payload.jti), clientId: client.id, expiresAt: payload.exp! * 1000, revokedAt: this.now() };
    await this.store.revokeToken(record);
    this.revocations.add(record);
  }
}
