import { z } from 'zod';
import { RampartError } from '../../core/errors.js';
import type { Services } from '../../core/services.js';
import type { CredentialHasher } from '../../keys/hash.js';
import type { AdminTokenRecord } from '../../stores/contracts.js';
import { issueAdminToken } from '../admin-auth.js';
import { AdminResult } from '../server.js';
import { readJson, route, type DocumentedRoute } from '../input.js';
import { auditChange, NAME } from './consumers.js';

const createInput = z.object({ name: NAME, role: z.enum(['admin', 'operator', 'auditor']) }).strict();

function tokenJson(t: AdminTokenRecord): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    prefix: t.prefix,
    createdAt: new Date(t.createdAt).toISOString(),
    createdBy: t.createdBy,
    revokedAt: t.revokedAt === null ? null : new Date(t.revokedAt).toISOString(),
  };
}

/**
 * `/admin/v1/admin-tokens`: admin role only. The token is in the create response once.
 *
 * @example
 *   curl -X POST -d '{"name":"ci","role":"operator"}' -H "Authorization: Bearer $RAMPART_ADMIN_TOKEN" http://127.0.0.1:9901/admin/v1/admin-tokens
 */
export function adminTokenRoutes(services: Services, hasher: CredentialHasher): DocumentedRoute[] {
  const { store } = services;
  return [
    route({
      method: 'POST',
      path: '/admin/v1/admin-tokens',
      summary: 'Create an admin token (admin role); the response holds the token, shown this once',
      roles: ['admin'],
      body: createInput,
      async handle({ req, principal }) {
        const input = await readJson(req, createInput);
        const { record, token } = await issueAdminToken(store, hasher, { ...input, createdBy: principal?.name ?? 'unknown' });
        auditChange(services, principal, 'admin_token.create', { token: record.id, prefix: record.prefix, role: record.role });
        return new AdminResult(201, { ...tokenJson(record), token });
      },
    }),
    route({ method: 'GET', path: '/admin/v1/admin-tokens', summary: 'List admin tokens (admin role)', roles: ['admin'], handle: async () => (await store.listAdminTokens()).map(tokenJson) }),
    route({
      method: 'POST',
      path: '/admin/v1/admin-tokens/{id}/revoke',
      summary: 'Revoke an admin token (admin role)',
      roles: ['admin'],
      async handle({ params, principal }) {
        const revoked = await store.revokeAdminToken(params.id!, Date.now());
        if (revoked === undefined) throw new RampartError('RAMPART_ADMIN_NOT_FOUND', `No admin token ${JSON.stringify(params.id!.slice(0, 80))}.`);
        auditChange(services, principal, 'admin_token.revoke', { token: revoked.id, prefix: revoked.prefix });
        return tokenJson(revoked);
      },
    }),
  ];
}
