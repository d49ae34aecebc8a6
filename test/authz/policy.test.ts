import { describe, expect, it } from 'vitest';
import { authorizeOptionsSchema } from '../../src/authz/config.js';
import { RoleTable } from '../../src/authz/permissions.js';
import { compileRoutePolicy, decide, decideBody, hidingRules } from '../../src/authz/policy.js';
import { alice, authz, request, support, users } from './fixtures.js';

describe('role grants', () => {
  const table = new RoleTable({ reader: ['pets:read'], writer: ['pets:*'], root: ['*'], deep: ['a:b:*'] });
  it('matches concrete, prefix-wildcard and global grants', () => {
    expect(table.grantsOf(['reader']).has('pets:read')).toBe(true);
    expect(table.grantsOf(['reader']).has('pets:write')).toBe(false);
    expect(table.grantsOf(['writer']).has('pets:write')).toBe(true);
    expect(table.grantsOf(['writer']).has('pets:read:own')).toBe(true);
    expect(table.grantsOf(['writer']).has('users:read')).toBe(false);
    expect(table.grantsOf(['root']).has('anything:at:all')).toBe(true);
    expect(table.grantsOf(['deep']).has('a:b:c')).toBe(true);
    expect(table.grantsOf(['deep']).has('a:bc')).toBe(false);
  });
  it('gives nothing for unknown roles and caches per roles array', () => {
    expect(table.grantsOf(['nobody']).has('pets:read')).toBe(false);
    const roles = ['reader', 'writer'];
    expect(table.grantsOf(roles)).toBe(table.grantsOf(roles));
    expect(table.grantsOf(roles).list).toEqual(['pets:*', 'pets:read']);
  });
});

describe('route rules', () => {
  it('allows the owner and names the rule', () => {
    const d = decide(authz, users, request('GET', '/users/alice', { userId: 'alice' }), alice);
    expect(d).toMatchObject({ allow: true, rule: 'routes.users.rules.read' });
  });
  it('refuses a method no rule covers, and names it', () => {
    expect(decide(authz, users, request('PUT', '/users/alice', { userId: 'alice' }), alice)).toMatchObject({ allow: false, rule: 'routes.users.no-rule' });
  });
  it('requires scopes as well as permissions', () => {
    const policy = compileRoutePolicy('pets', authorizeOptionsSchema.parse({ type: 'authorize', rules: [{ permissions: ['pets:read'], scopes: ['pets.read'] }] }));
    expect(decide(authz, policy, request('GET', '/pets'), alice)).toMatchObject({ allow: false, rule: 'routes.pets.rules.0', reason: 'requires scope pets.read' });
    expect(decide(authz, policy, request('GET', '/pets'), { ...alice, scopes: ['pets.read'] })).toMatchObject({ allow: true });
  });
  it('anyAuthenticated lets any identity but anonymous through', () => {
    const policy = compileRoutePolicy('open', authorizeOptionsSchema.parse({ type: 'authorize', anyAuthenticated: true }));
    expect(decide(authz, policy, request('GET', '/x'), alice)).toMatchObject({ allow: true, rule: 'routes.open.any-authenticated' });
    expect(decide(authz, policy, request('GET', '/x'), { ...alice, method: 'anonymous' })).toMatchObject({ allow: false });
    expect(decide(authz, policy, request('GET', '/x'), undefined)).toMatchObject({ allow: false, rule: 'routes.open.authenticated' });
  });
  it('implicit modes: deny by default when authenticating, public otherwise', () => {
    expect(decide(authz, compileRoutePolicy('r', 'deny'), request('GET', '/x'), alice)).toMatchObject({ allow: false, rule: 'routes.r.deny-by-default' });
    expect(decide(authz, compileRoutePolicy('r', 'public'), request('GET', '/x'), undefined)).toMatchObject({ allow: true });
  });
  it('refuses options that are neither rules nor anyAuthenticated', () => {
    expect(authorizeOptionsSchema.safeParse({ type: 'authorize' }).success).toBe(false);
    expect(authorizeOptionsSchema.safeParse({ type: 'authorize', anyAuthenticated: true, rules: [{ permissions: ['a:b'] }] }).success).toBe(false);
    expect(authorizeOptionsSchema.safeParse({ type: 'authorize', rules: [{ permissions: ['pets:*'] }] }).success).toBe(false);
  });
});

describe('property rules', () => {
  it('lists hidden fields for callers without the bypass permission', () => {
    expect(hidingRules(authz, users, alice).map((r) => r.id)).toEqual(['routes.users.properties.internal-notes']);
    expect(hidingRules(authz, users, support)).toEqual([]);
  });
  it('lets a bypass holder write read-only fields', () => {
    const admin = { ...alice, roles: ['admin'] };
    expect(decideBody(authz, users, 'PATCH', admin, { role: 'admin' })).toBeUndefined();
    expect(decideBody(authz, users, 'PATCH', alice, { name: 'Alice B.' })).toBeUndefined();
  });
});
