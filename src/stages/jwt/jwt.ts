import { createHash } from 'node:crypto';
import { errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { RequestContext } from '../../core/context.js';
import type { Identity } from '../../core/identity.js';
import { authFailure } from '../../auth/failure.js';
import { bearerToken, identityFromClaims } from '../../auth/claims.js';
import { KeyNotFound, KeySet } from '../../auth/key-set.js';
import { clientCertificate } from '../../auth/certificate.js';
import { defineStage } from '../definition.js';
import { jwtOptions } from './options.js';

interface Verified {
  readonly identity: Identity;
  /** `exp`, milliseconds since the epoch. */
  readonly expiresAt: number;
  /** The cache entry is dropped after this (ms): a key the IdP withdrew stops working soon, not at `exp`. */
  readonly cachedUntil: number;
  readonly jti: string | undefined;
  /** `client_id` (RFC 9068): tokens of a revoked client of the built-in server are refused. */
  readonly clientId: string | undefined;
  readonly x5t: string | undefined;
}

/** How long a verified token is trusted without re-verifying its signature, milliseconds. */
const CACHE_TTL_MS = 60_000;

/** A compact JWS has exactly two dots; anything else in a Bearer header is some other method's credential. */
function looksLikeJws(token: string): boolean {
  const a = token.indexOf('.');
  if (a <= 0) return false;
  const b = token.indexOf('.', a + 1);
  return b > a + 1 && token.indexOf('.', b + 1) === -1;
}

/**
 * `jwt`: validates `Authorization: Bearer <JWS>` access tokens (own OAuth server or an external
 * IdP) and maps their claims to the identity. See docs/authentication.md.
 *
 * @example
 *   stages:
 *     - type: jwt
 *       issuer: https://idp.example.com/
 *       audience: pets-api
 *       algorithms: [RS256, ES256]
 *       jwksUrl: https://idp.example.com/.well-known/jwks.json
 */
export const jwtStage = defineStage({
  type: 'jwt',
  phase: 'authenticate',
  options: jwtOptions,
  async create(options, deps) {
    const { services } = deps;
    const now = Date.now;
    const keys = new KeySet({
      jwks: options.keys as JWK[] | undefined,
      pem: options.pem,
      secret: options.secret,
      remote:
        options.jwksUrl === undefined
          ? undefined
          : {
              url: options.jwksUrl,
              refreshMs: options.jwks.refreshSeconds * 1000,
              minRefetchMs: options.jwks.minRefetchSeconds * 1000,
              timeoutMs: options.jwks.timeoutMs,
            },
      logger: services.logger,
    });
    await keys.start();
    const challenge = `Bearer realm="${options.realm}"`;
    const skewMs = options.clockSkewSeconds * 1000;
    const required = new Set(['exp', ...options.requiredClaims]);
    if (options.requireNbf) required.add('nbf');
    const verifyOptions: JWTVerifyOptions = {
      algorithms: [...options.algorithms],
      issuer: typeof options.issuer === 'string' ? options.issuer : [...options.issuer],
      audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
      clockTolerance: options.clockSkewSeconds,
      requiredClaims: [...required],
      ...(options.typ !== undefined ? { typ: options.typ } : {}),
    };
    const cache = new Map<string, Verified>();
    const own = services.oauth;
    if (options.ownIssuer && own === undefined) throw new Error('jwt ownIssuer needs the top-level oauth: section');
    const getKey = options.ownIssuer ? (header: { alg?: string; kid?: string }) => own!.keys.resolve(header) : (header: { alg?: string; kid?: string }) => keys.resolve(header);

    const fail = (ctx: RequestContext, reason: string): never => {
      throw authFailure(ctx, { source: 'jwt', code: 'RAMPART_AUTH_INVALID_TOKEN', reason, challenge });
    };

    /** Checks that hold per request even for a cached token: expiry, revocation, certificate binding. */
    const admit = (ctx: RequestContext, v: Verified): void => {
      if (now() > v.expiresAt + skewMs) fail(ctx, 'token expired');
      if (v.jti !== undefined && services.tokenRevocations?.isRevoked(v.jti) === true) {
        ctx.attemptedPrincipal = v.identity.consumer;
        fail(ctx, `token ${v.jti} revoked`);
      }
      if (v.clientId !== undefined && services.tokenRevocations?.isClientRevoked(v.clientId) === true) {
        ctx.attemptedPrincipal = v.identity.consumer;
        fail(ctx, `client ${v.clientId} revoked`);
      }
      if (options.certificateBound) {
        const cert = clientCertificate(ctx.req.socket);
        if (v.x5t === undefined) fail(ctx, 'token has no cnf.x5t#S256 but the route requires certificate-bound tokens');
        if (cert === undefined || !cert.authorized) fail(ctx, 'certificate-bound token presented without a verified client certificate');
        if (cert!.thumbprint !== v.x5t) fail(ctx, 'cnf.x5t#S256 does not match the client certificate');
      }
      ctx.identity = v.identity;
    };

    const verify = async (ctx: RequestContext, token: string, cacheKey: string): Promise<void> => {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, { ...verifyOptions, currentDate: new Date(now()) }));
      } catch (err) {
        // Claim errors come after a good signature: the subject is genuine and may feed the lockout.
        if (err instanceof errors.JWTExpired || err instanceof errors.JWTClaimValidationFailed) {
          if (typeof err.payload.sub === 'string') ctx.attemptedPrincipal = err.payload.sub.slice(0, 256);
          return fail(ctx, `${err.code}: ${err.message}`);
        }
        if (err instanceof KeyNotFound) return fail(ctx, err.message);
        if (err instanceof errors.JOSEError) return fail(ctx, `${err.code}: ${err.message}`);
        return fail(ctx, `token could not be verified: ${(err as Error).message}`);
      }
      const jti = typeof payload.jti === 'string' ? payload.jti : undefined;
      const identity = identityFromClaims(payload as Record<string, unknown>, options.claims, 'jwt', jti);
      if (typeof identity === 'string') return fail(ctx, identity);
      const cnf = payload.cnf as Record<string, unknown> | undefined;
      const x5t = cnf !== null && typeof cnf === 'object' && typeof cnf['x5t#S256'] === 'string' ? cnf['x5t#S256'] : undefined;
      const verified: Verified = { identity: Object.freeze(identity), expiresAt: payload.exp! * 1000, cachedUntil: now() + CACHE_TTL_MS, jti, clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined, x5t };
      if (options.cacheEntries > 0) {
        if (cache.size >= options.cacheEntries) cache.delete(cache.keys().next().value!);
        cache.set(cacheKey, verified);
      }
      admit(ctx, verified);
    };

    return {
      name: 'jwt',
      phase: 'authenticate',
      challenge,
      handle(ctx) {
        const token = bearerToken(ctx.req.headers.authorization);
        if (token === undefined || !looksLikeJws(token)) return;
        if (token.length > options.maxTokenBytes) return fail(ctx, `token of ${token.length} bytes exceeds maxTokenBytes ${options.maxTokenBytes}`);
        // Cached by hash so that memory holds no bearer tokens; a hit skips only the signature and claim checks.
        const cacheKey = options.cacheEntries > 0 ? createHash('sha256').update(token).digest('base64') : '';
        const hit = options.cacheEntries > 0 ? cache.get(cacheKey) : undefined;
        if (hit !== undefined) {
          if (now() <= hit.cachedUntil) {
            admit(ctx, hit);
            return;
          }
          cache.delete(cacheKey);
        }
        return verify(ctx, token, cacheKey);
      },
      close() {
        keys.close();
        cache.clear();
      },
    };
  },
});
