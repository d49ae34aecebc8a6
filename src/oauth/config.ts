import { z } from 'zod';

/**
 * `oauth:` section of rampart.yaml: the built-in OAuth 2.0 authorization server (client_credentials).
 * Absent: no server. Read at start (restart to change it).
 */
export const oauthConfigSchema = z
  .object({
    /** `iss` of issued tokens and base of the metadata URLs, e.g. `https://api.example.com`. */
    issuer: z.string().url().refine((u) => !u.endsWith('/'), 'no trailing slash'),
    /** `aud` of issued tokens (the APIs behind this gateway). */
    audience: z.string().min(1).default('rampart'),
    /** Access-token lifetime, seconds (1 hour). */
    tokenTtlSeconds: z.number().int().min(60).max(86_400).default(3_600),
    /** Signing algorithm of access tokens. */
    algorithm: z.enum(['ES256', 'EdDSA']).default('ES256'),
    /** Signing-key rotation period, seconds (7 days). The next key is published one period ahead. */
    rotationSeconds: z.number().int().min(120).default(604_800),
    /** How often each process reloads the revocation list, milliseconds. */
    revocationPollMs: z.number().int().min(100).max(60_000).default(1_000),
  })
  .strict()
  .refine((o) => o.tokenTtlSeconds < o.rotationSeconds, { message: 'tokenTtlSeconds must be shorter than rotationSeconds', path: ['tokenTtlSeconds'] });
export type OAuthConfig = z.infer<typeof oauthConfigSchema>;
