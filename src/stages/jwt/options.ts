import { z } from 'zod';
import { claimMappingSchema } from '../../auth/claims.js';

/** Signature algorithms a route may allow. `none` is not in the list and can never be configured. */
export const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512'] as const;
const isHmac = (alg: string): boolean => alg.startsWith('HS');

/** `http:` is accepted only for loopback (a local IdP); anything else must be `https:`. */
export const idpUrl = z.string().refine((value) => {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
  } catch {
    return false;
  }
}, 'must be an https:// URL (http:// only for 127.0.0.1/localhost)');

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const jwtOptions = z
  .object({
    type: z.literal('jwt'),
    /** Accepted `iss` value(s). Required: a token from another issuer is refused. */
    issuer: stringOrList,
    /** Accepted `aud` value(s): the token must name one of them. Required. */
    audience: stringOrList,
    /** Signature algorithms allowed on this route. `none` does not exist here. */
    algorithms: z.array(z.enum(JWS_ALGORITHMS)).min(1),
    /** Verify with the keys of the built-in OAuth server (top-level `oauth:`), in process. */
    ownIssuer: z.boolean().default(false),
    /** URL of the issuer's JWKS (`https://idp/.well-known/jwks.json`). */
    jwksUrl: idpUrl.optional(),
    /** Static public keys as JWK objects. */
    keys: z.array(z.record(z.string(), z.unknown())).optional(),
    /** Static public keys as PEM text (use `${file:keys/idp.pem}`). */
    pem: z.array(z.string().includes('-----BEGIN')).optional(),
    /** HMAC secret (at least 32 bytes; use `${env:NAME}`). Only with HS* algorithms. */
    secret: z.string().min(32, 'an HMAC secret needs at least 32 bytes').optional(),
    jwks: z
      .object({
        /** Background refresh period, seconds. */
        refreshSeconds: z.number().int().min(10).default(300),
        /** Minimum interval between refetches triggered by an unknown `kid`, seconds. */
        minRefetchSeconds: z.number().int().min(0).default(10),
        /** JWKS fetch timeout, milliseconds. */
        timeoutMs: z.number().int().min(100).default(5_000),
      })
      .strict()
      .default({ refreshSeconds: 300, minRefetchSeconds: 10, timeoutMs: 5_000 }),
    /** Tolerance applied to `exp`, `nbf` and `iat`, seconds. */
    clockSkewSeconds: z.number().int().min(0).max(300).default(30),
    /** Refuse tokens without `nbf`. */
    requireNbf: z.boolean().default(false),
    /** Other claims that must be present (`jti`, `iat`, `tenant`…). `exp` is always required. */
    requiredClaims: z.array(z.string().min(1)).default([]),
    /** Expected `typ` header (e.g. `at+jwt` for RFC 9068 access tokens). */
    typ: z.string().optional(),
    /** Largest token accepted, bytes: bigger ones are refused before any decoding. */
    maxTokenBytes: z.number().int().min(256).max(65_536).default(8_192),
    /** RFC 8705: require `cnf.x5t#S256` to match the client certificate of this TLS connection. */
    certificateBound: z.boolean().default(false),
    /** Realm in the `WWW-Authenticate` challenge. */
    realm: z.string().regex(/^[^"\\]*$/).default('rampart'),
    claims: claimMappingSchema.default(claimMappingSchema.parse({})),
    /** Verified tokens kept in memory (keyed by the token's hash, until its `exp`), entries. 0 disables. */
    cacheEntries: z.number().int().min(0).max(1_000_000).default(10_000),
  })
  .strict()
  .refine((o) => o.ownIssuer || o.jwksUrl !== undefined || o.keys !== undefined || o.pem !== undefined || o.secret !== undefined, {
    message: 'give at least one key source: ownIssuer, jwksUrl, keys, pem or secret',
  })
  .refine((o) => o.algorithms.some(isHmac) === (o.secret !== undefined), {
    message: 'HS* algorithms need a secret, and a secret needs an HS* algorithm',
    path: ['algorithms'],
  })
  .refine((o) => !o.algorithms.some(isHmac) || (!o.ownIssuer && o.jwksUrl === undefined && o.keys === undefined && o.pem === undefined), {
    // One route, one family: mixing makes every token's algorithm choose which key type is used.
    message: 'HS* algorithms cannot be combined with public keys on one route',
    path: ['algorithms'],
  });
export type JwtOptions = z.infer<typeof jwtOptions>;
