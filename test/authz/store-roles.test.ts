/**
 * Store roles in decisions: the in-memory snapshot (no store query per decision), refreshed at once
 * by its own process and by a poll of the roles version for other processes; config roles win.
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { authorizationSchema } from '../../src/authz/config.js';
import { compileAuthorization } from '../../src/authz/policy.js';
import { StoreRoles } from '../../src/authz/store-roles.js';
import { openStore } from '../../src/stores/open.js';
import type { Store } from '../../src/stores/contracts.js';
import { tempDir } from '../helpers/gateway.js';

const logger = pino({ level: 'silent' });
const role = (name: string, permissions: string[]) => ({ name, permissions, createdAt: 1, updatedAt: 1 });

describe('StoreRoles', () => {
  const opened: { close(): unknown }[] = [];
  afterAll(async () => {
    for (const o of opened.reverse()) await o.close();
  });
  async function setup(): Promise<Store> {
    const store = await openStore(`sqlite:${join(tempDir(), 'store.db')}`);
    opened.push(store);
    return store;
  }
  async function watcher(store: Store): Promise<StoreRoles> {
    // A poll interval far beyond the test: polls run only when the test calls poll().
    const roles = await StoreRoles.start({ store, logger, pollMs: 3_600_000 });
    opened.push(roles);
    return roles;
  }

  it('loads the store roles at start; another process sees a change at its next poll, not before', async () => {
    const store = await setup();
    await store.putRole(role('support', ['users:any']));
    const here = await watcher(store);
    const there = await watcher(store);
    expect(here.permissionsOf('support')).toEqual(['users:any']);
    await store.putRole(role('support', ['users:*']));
    await here.refresh();
    expect(here.permissionsOf('support')).toEqual(['users:*']);
    expect(there.permissionsOf('support')).toEqual(['users:any']);
    await there.poll();
    expect(there.permissionsOf('support')).toEqual(['users:*']);
    await store.deleteRole('support');
    await there.poll();
    expect(there.permissionsOf('support')).toBeUndefined();
  });

  it('a poll without a change keeps the snapshot (and the grants cache)', async () => {
    const store = await setup();
    await store.putRole(role('reader', ['pets:read']));
    const roles = await watcher(store);
    const generation = roles.generation;
    await roles.poll();
    expect(roles.generation).toBe(generation);
  });

  it('decisions read the snapshot: config first, then the store; a config role of the same name wins', async () => {
    const store = await setup();
    await store.putRole(role('reader', ['pets:read']));
    await store.putRole(role('user', ['*']));
    const roles = await watcher(store);
    const authz = compileAuthorization(authorizationSchema.parse({ roles: { user: ['users:read'] } }), roles);
    const ids = ['reader', 'user', 'ghost'];
    expect(authz.roles.grantsOf(ids).list).toEqual(['pets:read', 'users:read']);
    expect(authz.roles.grantsOf(['user']).has('pets:write')).toBe(false);
    // Without a snapshot (e.g. `rampart policy explain` from the config alone) only config roles count.
    expect(compileAuthorization(authorizationSchema.parse({ roles: { user: ['users:read'] } })).roles.grantsOf(['reader']).list).toEqual([]);
    // A change drops the cached grants of the same roles array.
    await store.putRole(role('reader', ['pets:write']));
    await roles.refresh();
    expect(authz.roles.grantsOf(ids).list).toEqual(['pets:write', 'users:read']);
    await store.deleteRole('reader');
    await roles.refresh();
    expect(authz.roles.grantsOf(ids).has('pets:write')).toBe(false);
  });

  it('a failing store keeps the last snapshot (no lock-out during a blip) and recovers', async () => {
    const store = await setup();
    await store.putRole(role('reader', ['pets:read']));
    const roles = await watcher(store);
    const version = store.rolesVersion.bind(store);
    store.rolesVersion = () => Promise.reject(new Error('down'));
    await roles.poll();
    expect(roles.permissionsOf('reader')).toEqual(['pets:read']);
    store.rolesVersion = version;
    await store.putRole(role('reader', ['pets:*']));
    await roles.poll();
    expect(roles.permissionsOf('reader')).toEqual(['pets:*']);
  });

  it('a store down at start leaves no store roles (fail closed) until a poll succeeds', async () => {
    const store = await setup();
    await store.putRole(role('reader', ['pets:read']));
    const version = store.rolesVersion.bind(store);
    store.rolesVersion = () => Promise.reject(new Error('down'));
    const roles = await watcher(store);
    expect(roles.permissionsOf('reader')).toBeUndefined();
    store.rolesVersion = version;
    await roles.poll();
    expect(roles.permissionsOf('reader')).toEqual(['pets:read']);
  });
});
