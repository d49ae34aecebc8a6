import { afterAll, describe, expect, it } from 'vitest';
import { backends } from './backends.js';

describe.each(backends('roles'))('RoleStore on $name', (backend) => {
  afterAll(() => backend.cleanup());

  it('puts (create, then replace keeping createdAt), gets, lists by name and deletes roles', async () => {
    const store = await backend.open();
    expect(await store.putRole({ name: 'writer', permissions: ['pets:write'], createdAt: 1, updatedAt: 1 })).toBe(true);
    expect(await store.putRole({ name: 'reader', permissions: ['pets:read'], createdAt: 2, updatedAt: 2 })).toBe(true);
    expect(await store.putRole({ name: 'writer', permissions: ['pets:*', 'orders:read'], createdAt: 3, updatedAt: 3 })).toBe(false);
    expect(await store.getRole('writer')).toEqual({ name: 'writer', permissions: ['pets:*', 'orders:read'], createdAt: 1, updatedAt: 3 });
    expect((await store.listRoles()).map((r) => r.name)).toEqual(['reader', 'writer']);
    expect(await store.deleteRole('reader')).toBe(true);
    expect(await store.deleteRole('reader')).toBe(false);
    expect(await store.getRole('reader')).toBeUndefined();
    expect(await store.getRole('nobody')).toBeUndefined();
  });

  it('bumps the roles version on every put and effective delete, not on reads or a delete of nothing', async () => {
    const store = await backend.open();
    const v0 = await store.rolesVersion();
    await store.putRole({ name: 'a', permissions: [], createdAt: 1, updatedAt: 1 });
    await store.putRole({ name: 'a', permissions: ['*'], createdAt: 2, updatedAt: 2 });
    expect(await store.rolesVersion()).toBe(v0 + 2);
    await store.listRoles();
    await store.deleteRole('missing');
    expect(await store.rolesVersion()).toBe(v0 + 2);
    await store.deleteRole('a');
    expect(await store.rolesVersion()).toBe(v0 + 3);
  });

  it('refuses malformed names and permissions (the syntax of config roles) and stores nothing', async () => {
    const store = await backend.open();
    const bad: [string, string[]][] = [
      ['', []],
      ['has space', []],
      ['x'.repeat(65), []],
      ['ok', ['pets:*:read']],
      ['ok', ['pe ts']],
      ['ok', ['a', 'a']],
      ['ok', ['*x']],
    ];
    for (const [name, permissions] of bad) {
      await expect(store.putRole({ name, permissions, createdAt: 1, updatedAt: 1 })).rejects.toThrow(RangeError);
    }
    expect(await store.listRoles()).toEqual([]);
    // The legitimate shapes still pass: concrete, prefix wildcard, everything, colon in the name.
    expect(await store.putRole({ name: 'team:ops-1.x', permissions: ['pets:read', 'orders:*', '*'], createdAt: 1, updatedAt: 1 })).toBe(true);
  });
});
