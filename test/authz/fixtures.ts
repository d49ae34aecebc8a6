/** Shared authorization fixtures: the quick-start policy and two consumers of different tenants and roles. */
import type { Identity } from '../../src/core/identity.js';
import { authorizationSchema, authorizeOptionsSchema } from '../../src/authz/config.js';
import { compileAuthorization, compileRoutePolicy, type AuthzRequest } from '../../src/authz/policy.js';

export const authz = compileAuthorization(
  authorizationSchema.parse({
    roles: { user: ['users:read', 'users:write', 'pets:read'], support: ['users:*', 'pets:read'], admin: ['*'] },
    adminOnly: [
      { id: 'delete', methods: ['DELETE'], permission: 'admin' },
      { id: 'admin-area', paths: ['/admin/**'], permission: 'admin' },
    ],
  }),
);

export const users = compileRoutePolicy(
  'users',
  authorizeOptionsSchema.parse({
    type: 'authorize',
    rules: [
      { id: 'read', methods: ['GET', 'HEAD'], permissions: ['users:read'] },
      { id: 'write', methods: ['PATCH'], permissions: ['users:write'] },
    ],
    objects: [{ id: 'own-profile', in: 'path', name: 'userId', equals: 'identity.consumer', bypass: 'users:any' }],
    properties: [
      { id: 'role-read-only', fields: ['role', 'tenant'], write: 'deny', bypass: 'admin' },
      { id: 'internal-notes', fields: ['internalNotes'], read: 'deny', bypass: 'users:internal' },
    ],
  }),
);

export const alice: Identity = { consumer: 'alice', roles: ['user'], scopes: [], tenant: 'acme', method: 'api_key' };
export const bob: Identity = { consumer: 'bob', roles: ['user'], scopes: [], tenant: 'globex', method: 'api_key' };
export const support: Identity = { consumer: 'sam', roles: ['support'], scopes: [], tenant: 'rampart', method: 'api_key' };

export function request(method: string, path: string, params: Record<string, string> = {}, extra: Partial<AuthzRequest> = {}): AuthzRequest {
  return { method, path, params, query: '', headers: {}, ...extra };
}
