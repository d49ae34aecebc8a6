/**
 * Maps verified token claims (JWT payload or an introspection response) to an {@link Identity}.
 */
import { z } from 'zod';
import type { Identity } from '../core/identity.js';

/** Config block shared by the jwt and introspection stages. */
export const claimMappingSchema = z
  .object({
    /** Claim naming the consumer. */
    consumer: z.string().min(1).default('sub'),
    /** Claims holding scopes: a space-separated string (`scope`, RFC 8693) or an array (`scp`). First present wins. */
    scopes: z.array(z.string().min(1)).default(['scope', 'scp']),
    /** Claim (dotted path, e.g. `realm_access.roles`) holding roles: an array or a space-separated string. */
    roles: z.string().min(1).optional(),
    /** Claim (dotted path) holding the tenant id. */
    tenant: z.string().min(1).optional(),
  })
  .strict();
export type ClaimMapping = z.infer<typeof claimMappingSchema>;

const MAX_CONSUMER_LENGTH = 256;

/** Reads a claim by dotted path (`realm_access.roles`); own properties only. */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

/**
 * Builds the identity, or returns a reason string when the claims cannot name a consumer.
 *
 * @example
 *   const id = identityFromClaims({ sub: 'svc-a', scope: 'pets:read' }, claimMappingSchema.parse({}), 'jwt', 'jti-1');
 *   // → { consumer: 'svc-a', scopes: ['pets:read'], roles: [], method: 'jwt', … }
 */
export function identityFromClaims(
  claims: Readonly<Record<string, unknown>>,
  mapping: ClaimMapping,
  method: Identity['method'],
  credentialId: string | undefined,
): Identity | string {
  const consumer = claimAt(claims, mapping.consumer);
  if (typeof consumer !== 'string' || consumer === '' || consumer.length > MAX_CONSUMER_LENGTH) {
    return `claim ${mapping.consumer} missing or not a usable consumer name`;
  }
  let scopes: string[] = [];
  for (const name of mapping.scopes) {
    const list = stringList(claimAt(claims, name));
    if (list !== undefined) {
      scopes = list;
      break;
    }
  }
  const roles = mapping.roles === undefined ? [] : (stringList(claimAt(claims, mapping.roles)) ?? []);
  const tenantValue = mapping.tenant === undefined ? undefined : claimAt(claims, mapping.tenant);
  const tenant = typeof tenantValue === 'string' ? tenantValue : undefined;
  return {
    consumer,
    roles,
    scopes,
    claims,
    method,
    ...(tenant !== undefined ? { tenant } : {}),
    ...(credentialId !== undefined ? { credentialId } : {}),
  };
}

/** The bearer token of an `Authorization: Bearer …` header, or undefined when there is none. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length < 8) return undefined;
  if (authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = authorization.slice(7).trim();
  return token === '' ? undefined : token;
}
