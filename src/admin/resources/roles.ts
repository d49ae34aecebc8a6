import { z } from 'zod';
import { RampartError } from '../../core/errors.js';
import type { Services } from '../../core/services.js';
import type { RampartConfig } from '../../config/schema.js';
import { ROLE_NAME, storeRolePermissions } from '../../authz/config.js';
import type { RoleRecord } from '../../stores/contracts.js';
import { AdminResult } from '../server.js';
import { readJson, route, type DocumentedRoute } from '../input.js';
import { auditChange } from './consumers.js';

const putInput = z.object({ permissions: storeRolePermissions }).strict();

/** JSON shape of a role: where it is defined, and (store roles) when it changed. */
function roleJson(name: string, permissions: readonly string[], record?: RoleRecord): Record<string, unknown> {
  if (record === undefined) return { name, permissions, source: 'config' };
  return { name, permissions, source: 'store', createdAt: new Date(record.createdAt).toISOString(), updatedAt: new Date(record.updatedAt).toISOString() };
}

function roleName(params: Record<string, string>): string {
  const name = params.name!;
  if (!ROLE_NAME.test(name)) {
    throw new RampartError('RAMPART_ADMIN_INVALID_INPUT', 'The role name must be 1-64 characters of a-z A-Z 0-9 _ . : -.', { extensions: { errors: ['name: must be 1-64 characters of a-z A-Z 0-9 _ . : -'] } });
  }
  return name;
}

/**
 * `/admin/v1/roles`: roles → permissions kept in the store, next to the config's `authorization.roles`.
 * A config role wins on a name clash, so the admin API refuses to write or delete one (409): the
 * change would have no effect. Reads show both, with `source: config | store`.
 *
 * @example
 *   curl -X PUT -H "Authorization: Bearer $RAMPART_ADMIN_TOKEN" -H 'content-type: application/json' \
 *     -d '{"permissions":["pets:read"]}' http://127.0.0.1:9901/admin/v1/roles/reader
 */
export function roleRoutes(services: Services, config: () => RampartConfig): DocumentedRoute[] {
  const { store } = services;
  const configRole = (name: string): readonly string[] | undefined =>
    Object.hasOwn(config().authorization.roles, name) ? config().authorization.roles[name] : undefined;
  const refuseConfigRole = (name: string): void => {
    if (configRole(name) !== undefined) {
      throw new RampartError('RAMPART_ADMIN_CONFLICT', `Role ${JSON.stringify(name)} is defined in the config file, which wins over the store: change it there.`);
    }
  };
  return [
    route({
      method: 'GET',
      path: '/admin/v1/roles',
      summary: 'List roles (config and store), by name',
      async handle() {
        const stored = await store.listRoles();
        const rows: Record<string, unknown>[] = [
          ...Object.entries(config().authorization.roles).map(([name, permissions]) => roleJson(name, permissions)),
          // A store role shadowed by a config role of the same name has no effect: list it so operators see it.
          ...stored.map((r) => ({ ...roleJson(r.name, r.permissions, r), ...(configRole(r.name) === undefined ? {} : { shadowedByConfig: true }) })),
        ];
        // By name, the config role first when both define one ('config' < 'store').
        const key = (r: Record<string, unknown>): string => `${String(r.name)}\u0000${String(r.source)}`;
        return rows.sort((a, b) => (key(a) < key(b) ? -1 : 1));
      },
    }),
    route({
      method: 'GET',
      path: '/admin/v1/roles/{name}',
      summary: 'Get the role in effect for a name (the config one when both define it)',
      async handle({ params }) {
        const name = roleName(params);
        const fromConfig = configRole(name);
        if (fromConfig !== undefined) return roleJson(name, fromConfig);
        const r = await store.getRole(name);
        if (r === undefined) throw new RampartError('RAMPART_ADMIN_NOT_FOUND', `No role ${JSON.stringify(name)}.`);
        return roleJson(r.name, r.permissions, r);
      },
    }),
    route({
      method: 'PUT',
      path: '/admin/v1/roles/{name}',
      summary: 'Create or replace a store role: { "permissions": ["pets:read", "orders:*"] }',
      body: putInput,
      roles: ['admin'],
      async handle({ req, params, principal }) {
        const name = roleName(params);
        const { permissions } = await readJson(req, putInput);
        refuseConfigRole(name);
        const now = Date.now();
        const created = await store.putRole({ name, permissions, createdAt: now, updatedAt: now });
        // This process applies it at once; the others within one poll of the roles version.
        await services.roles?.refresh();
        auditChange(services, principal, created ? 'role.create' : 'role.update', { role: name, permissions });
        const saved = (await store.getRole(name))!;
        return new AdminResult(created ? 201 : 200, roleJson(name, saved.permissions, saved), created ? { location: `/admin/v1/roles/${encodeURIComponent(name)}` } : {});
      },
    }),
    route({
      method: 'DELETE',
      path: '/admin/v1/roles/{name}',
      summary: 'Delete a store role (consumers keep the name, which then grants nothing)',
      roles: ['admin'],
      async handle({ params, principal }) {
        const name = roleName(params);
        refuseConfigRole(name);
        const r = await store.getRole(name);
        if (r === undefined || !(await store.deleteRole(name))) throw new RampartError('RAMPART_ADMIN_NOT_FOUND', `No store role ${JSON.stringify(name)}.`);
        await services.roles?.refresh();
        auditChange(services, principal, 'role.delete', { role: name });
        return { ...roleJson(r.name, r.permissions, r), deleted: true };
      },
    }),
  ];
}
