/** Each attack the decision stops, next to the legitimate request it still allows. */
import { describe, expect, it } from 'vitest';
import { authorizeOptionsSchema } from '../../src/authz/config.js';
import { hasField, parseJsonBody, removeField, repeatsKey } from '../../src/authz/json.js';
import { compileRoutePolicy, decide, decideBody, normalisePath, queryValue } from '../../src/authz/policy.js';
import { alice, authz, bob, request, support, users } from './fixtures.js';

const tenantPolicy = compileRoutePolicy(
  'tenants',
  authorizeOptionsSchema.parse({
    type: 'authorize',
    anyAuthenticated: true,
    objects: [
      { id: 'tenant-path', in: 'path', name: 'tenant', equals: 'identity.tenant' },
      { id: 'tenant-query', in: 'query', name: 'tenant', equals: 'identity.tenant', methods: ['GET'] },
      { id: 'tenant-header', in: 'header', name: 'X-Tenant', equals: 'identity.tenant', methods: ['PUT'] },
      { id: 'tenant-body', in: 'body', name: 'owner.tenant', equals: 'identity.tenant', methods: ['POST'] },
    ],
  }),
);
const numeric = compileRoutePolicy(
  'accounts',
  authorizeOptionsSchema.parse({
    type: 'authorize',
    anyAuthenticated: true,
    objects: [{ in: 'path', name: 'id', equals: 'identity.claims.uid', type: 'integer' }],
  }),
);

describe('object-level guard (BOLA)', () => {
  it('refuses another consumer’s object; allows the owner and the bypass holder', () => {
    expect(decide(authz, users, request('GET', '/users/bob', { userId: 'bob' }), alice)).toMatchObject({ allow: false, rule: 'routes.users.objects.own-profile' });
    expect(decide(authz, users, request('GET', '/users/bob', { userId: 'bob' }), bob)).toMatchObject({ allow: true });
    expect(decide(authz, users, request('GET', '/users/bob', { userId: 'bob' }), support)).toMatchObject({ allow: true });
  });

  it('compares exactly: no case folding, no matrix parameters, no trailing characters', () => {
    for (const value of ['Alice', 'ALICE', 'alice;x=1', 'alice ', 'alice/', 'alice\u0000']) {
      expect(decide(authz, users, request('GET', `/users/${value}`, { userId: value }), alice).allow, value).toBe(false);
    }
  });

  it('is type-aware: "1" is not 1, and integers must be canonical', () => {
    const withUid = (uid: unknown) => ({ ...alice, claims: { uid } });
    expect(decide(authz, numeric, request('GET', '/accounts/42', { id: '42' }), withUid(42)).allow).toBe(true);
    expect(decide(authz, numeric, request('GET', '/accounts/42', { id: '42' }), withUid('42')).allow).toBe(false);
    for (const id of ['042', '+42', '42.0', '4e1', ' 42', '0x2a']) {
      expect(decide(authz, numeric, request('GET', `/accounts/${id}`, { id }), withUid(42)).allow, id).toBe(false);
    }
    const stringPolicy = compileRoutePolicy('s', authorizeOptionsSchema.parse({ type: 'authorize', anyAuthenticated: true, objects: [{ in: 'body', name: 'uid', equals: 'identity.claims.uid' }] }));
    expect(decideBody(authz, stringPolicy, 'POST', withUid('1'), { uid: 1 })).toMatchObject({ reason: 'body field uid has the wrong type' });
    expect(decideBody(authz, stringPolicy, 'POST', withUid('1'), { uid: '1' })).toBeUndefined();
  });

  it('binds the tenant in the path, exactly', () => {
    expect(decide(authz, tenantPolicy, request('DELETE', '/tenants/acme', { tenant: 'acme' }), alice).allow).toBe(false); // admin-only method
    expect(decide(authz, tenantPolicy, request('PATCH', '/tenants/acme', { tenant: 'acme' }), alice).allow).toBe(true);
    expect(decide(authz, tenantPolicy, request('PATCH', '/tenants/globex', { tenant: 'globex' }), alice).allow).toBe(false);
    expect(decide(authz, tenantPolicy, request('PATCH', '/tenants/ACME', { tenant: 'ACME' }), alice).allow).toBe(false);
  });

  it('refuses an identity without the bound attribute', () => {
    const noTenant = { consumer: 'x', roles: ['user'], scopes: [], method: 'api_key' as const };
    expect(decide(authz, tenantPolicy, request('PATCH', '/tenants/undefined', { tenant: 'undefined' }), noTenant)).toMatchObject({ allow: false, reason: 'identity has no tenant' });
  });

  it('refuses ambiguous query parameters (repeated, other case, array syntax)', () => {
    const get = (query: string) => decide(authz, tenantPolicy, request('GET', '/tenants/acme', { tenant: 'acme' }, { query }), alice).allow;
    expect(get('tenant=acme')).toBe(true);
    expect(get('tenant=acme&x=1')).toBe(true);
    expect(get('tenant=globex')).toBe(false);
    expect(get('tenant=acme&tenant=globex')).toBe(false);
    expect(get('tenant=acme&Tenant=globex')).toBe(false);
    expect(get('tenant=acme&tenant[]=globex')).toBe(false);
    expect(get('tenant[]=acme')).toBe(false);
    expect(get('%74enant=acme&tenant=globex')).toBe(false);
    expect(get('tenant=%E0%A4%A')).toBe(false);
    expect(get('')).toBe(false);
    expect(queryValue('a=1&tenant=ac%20me', 'tenant')).toBe('ac me');
  });

  it('binds a header value (absent or different is refused)', () => {
    const put = (headers: Record<string, string>) => decide(authz, tenantPolicy, request('PUT', '/tenants/acme', { tenant: 'acme' }, { headers }), alice).allow;
    expect(put({ 'x-tenant': 'acme' })).toBe(true);
    expect(put({ 'x-tenant': 'globex' })).toBe(false);
    expect(put({ 'x-tenant': 'acme, globex' })).toBe(false);
    expect(put({})).toBe(false);
  });

  it('binds a JSON body field, in every element of arrays', () => {
    expect(decideBody(authz, tenantPolicy, 'POST', alice, { owner: { tenant: 'acme' } })).toBeUndefined();
    expect(decideBody(authz, tenantPolicy, 'POST', alice, { owner: { tenant: 'globex' } })).toMatchObject({ rule: 'routes.tenants.objects.tenant-body' });
    expect(decideBody(authz, tenantPolicy, 'POST', alice, [{ owner: { tenant: 'acme' } }, { owner: { tenant: 'globex' } }])).toBeDefined();
    expect(decideBody(authz, tenantPolicy, 'POST', alice, { owner: {} })).toMatchObject({ reason: 'body field owner.tenant is absent' });
  });
});

describe('function-level guard (BFLA)', () => {
  it('admin-only methods are refused on every route, before route rules', () => {
    expect(decide(authz, users, request('DELETE', '/users/alice', { userId: 'alice' }), alice)).toMatchObject({ allow: false, rule: 'adminOnly.delete' });
    const admin = { ...alice, roles: ['admin'] };
    expect(decide(authz, users, request('DELETE', '/users/alice', { userId: 'alice' }), admin)).toMatchObject({ allow: false, rule: 'routes.users.no-rule' });
  });

  it('admin paths cannot be reached by case, matrix parameters or trailing slashes', () => {
    const open = compileRoutePolicy('all', authorizeOptionsSchema.parse({ type: 'authorize', anyAuthenticated: true }));
    for (const path of ['/admin', '/admin/', '/ADMIN/users', '/Admin;x=1/users', '/admin;/users', '/admin/users/']) {
      expect(decide(authz, open, request('GET', path), alice), path).toMatchObject({ allow: false, rule: 'adminOnly.admin-area' });
    }
    expect(decide(authz, open, request('GET', '/administrator'), alice).allow).toBe(true);
    expect(decide(authz, open, request('GET', '/admin/users'), { ...alice, roles: ['admin'] }).allow).toBe(true);
    expect(normalisePath('/A;b/c;d/')).toBe('/a/c');
  });

  it('holds without an identity (public routes)', () => {
    expect(decide(authz, compileRoutePolicy('p', 'public'), request('GET', '/admin/x'), undefined)).toMatchObject({ allow: false });
  });
});

describe('property-level guard (mass assignment)', () => {
  it('refuses read-only fields in any capitalisation and inside arrays', () => {
    for (const body of [{ role: 'admin' }, { Role: 'admin' }, { ROLE: 'admin' }, [{ name: 'x' }, { tenant: 'globex' }]]) {
      expect(decideBody(authz, users, 'PATCH', alice, body), JSON.stringify(body)).toMatchObject({ rule: 'routes.users.properties.role-read-only' });
    }
    expect(decideBody(authz, users, 'PATCH', alice, { name: 'Al', roles: 'x', nested: { role: 'admin' } })).toBeUndefined();
  });

  it('refuses bodies that repeat a key (parsers disagree on which wins)', () => {
    expect(repeatsKey('{"role":"user","role":"admin"}')).toBe(true);
    expect(repeatsKey('{"tenant":"acme","Tenant":"globex"}')).toBe(true);
    expect(repeatsKey('{"a":{"b":1},"c":{"b":2}}')).toBe(false);
    expect(repeatsKey('[{"a":1},{"a":2}]')).toBe(false);
    expect(repeatsKey('{"a":"{\\"a\\":1,","b":"\\u0061"}')).toBe(false);
    expect(repeatsKey('{"rol\\u0065":"admin","role":"user"}')).toBe(true);
    expect(() => parseJsonBody(Buffer.from('{"role":"user","role":"admin"}'))).toThrow(/repeats/);
    expect(() => parseJsonBody(Buffer.from('role=admin'))).toThrow(/valid JSON/);
    expect(parseJsonBody(Buffer.from('{"name":"x"}'))).toEqual({ name: 'x' });
  });

  it('finds and removes fields case-insensitively, through arrays', () => {
    const value = { items: [{ id: 1, internalNotes: 'a' }, { id: 2, INTERNALNOTES: 'b' }] };
    expect(hasField(value, ['items', 'internalnotes'])).toBe(true);
    expect(removeField(value, ['items', 'internalnotes'])).toBe(true);
    expect(value).toEqual({ items: [{ id: 1 }, { id: 2 }] });
    expect(removeField(value, ['items', 'internalnotes'])).toBe(false);
  });
});
