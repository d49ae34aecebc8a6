/**
 * The authorize stage on real HTTP requests (a local server builds the RequestContext the gateway
 * would, with the identity an authentication stage would have set), each attack next to its
 * legitimate twin. End-to-end tests through the gateway with real keys are in test/e2e/authz.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import { RequestContext } from '../../../src/core/context.js';
import { RampartError } from '../../../src/core/errors.js';
import type { Identity } from '../../../src/core/identity.js';
import type { ResponseHead, Stage } from '../../../src/core/stage.js';
import type { Services } from '../../../src/core/services.js';
import { authorizeStage, implicitAuthorizeStage } from '../../../src/stages/authorize/authorize.js';
import { alice, bob, support } from '../../authz/fixtures.js';
import pino from 'pino';

const { config } = parseConfigText(`
upstreams: { demo: { url: "http://127.0.0.1:1" } }
authorization:
  roles: { user: [users:read, users:write], support: ["users:*"], admin: ["*"] }
  adminOnly: [{ id: delete, methods: [DELETE] }]
routes:
  - id: users
    path: /users/{userId}
    upstream: demo
    stages:
      - type: authorize
        rules:
          - { id: read, methods: [GET, HEAD], permissions: [users:read] }
          - { id: write, methods: [PATCH], permissions: [users:write] }
        objects: [{ id: own-profile, in: path, name: userId, equals: identity.consumer, bypass: users:any }]
        properties:
          - { id: role-read-only, fields: [role, tenant], write: deny, bypass: admin }
          - { id: internal-notes, fields: [internalNotes], read: deny, bypass: users:internal }
`);
const route = config.routes[0]!;
const services = { logger: pino({ level: 'silent' }), emit: () => undefined } as unknown as Services;

interface Outcome {
  ctx: RequestContext;
  error: RampartError | undefined;
}

/** Serves each request by running `stage` with the identity the test asked for. */
function harness(stage: Stage): { server: Server; send(path: string, init: { method?: string; identity?: Identity; headers?: Record<string, string>; body?: string }): Promise<Outcome> } {
  const identities = new Map<string, Identity | undefined>();
  const outcomes = new Map<string, (o: Outcome) => void>();
  let n = 0;
  const server = createServer((req, res) => {
    const id = req.headers['x-test-id'] as string;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const ctx = new RequestContext({ id, req, res, secure: false, peerIp: '127.0.0.1', host: 'localhost', rawPath: q === -1 ? url : url.slice(0, q), query: q === -1 ? '' : url.slice(q + 1), maxBodyBytes: 65_536 });
    ctx.route = { id: 'users' } as RequestContext['route'];
    ctx.params = { userId: decodeURIComponent(ctx.rawPath.split('/')[2] ?? '') };
    ctx.identity = identities.get(id);
    const finish = (error: unknown): void => {
      outcomes.get(id)!({ ctx, error: error as RampartError | undefined });
      res.end();
    };
    try {
      const pending = stage.handle!(ctx);
      if (pending === undefined) finish(undefined);
      else pending.then(() => finish(undefined), finish);
    } catch (err) {
      finish(err);
    }
  });
  return {
    server,
    async send(path, init) {
      const id = String(++n);
      identities.set(id, init.identity);
      const outcome = new Promise<Outcome>((resolve) => outcomes.set(id, resolve));
      const { port } = server.address() as AddressInfo;
      await fetch(`http://127.0.0.1:${port}${path}`, { method: init.method ?? 'GET', headers: { 'x-test-id': id, ...init.headers }, body: init.body });
      return outcome;
    },
  };
}

describe('authorize stage', () => {
  let h: ReturnType<typeof harness>;
  let stage: Stage;
  beforeAll(async () => {
    stage = await authorizeStage.create(route.stages[0] as Parameters<typeof authorizeStage.create>[0], { services, config, route, baseDir: '.' });
    h = harness(stage);
    await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => h.server.close(() => r())));

  it('refuses another user’s object with a 403 that reveals nothing, and an event naming the rule', async () => {
    const { ctx, error } = await h.send('/users/bob', { identity: alice });
    expect(error?.code).toBe('RAMPART_FORBIDDEN');
    expect(error?.detail).toBe('You are not allowed to perform this action.');
    expect(error?.detail).not.toMatch(/bob|alice|own|userId|rule/);
    expect(ctx.events).toEqual([expect.objectContaining({ type: 'authz.denied', code: 'RAMPART_FORBIDDEN', data: { rule: 'routes.users.objects.own-profile' }, consumer: 'alice' })]);
  });

  it('lets the owner and the bypass holder through', async () => {
    expect((await h.send('/users/bob', { identity: bob })).error).toBeUndefined();
    expect((await h.send('/users/bob', { identity: support })).error).toBeUndefined();
  });

  it('refuses method override headers and _method, whatever their case', async () => {
    for (const headers of [{ 'X-HTTP-Method-Override': 'DELETE' }, { 'x-http-method': 'delete' }, { 'X-Method-Override': 'PUT' }] as Record<string, string>[]) {
      const { error, ctx } = await h.send('/users/alice', { method: 'POST', identity: alice, headers });
      expect(error?.code, JSON.stringify(headers)).toBe('RAMPART_METHOD_OVERRIDE');
      expect(ctx.events[0]?.data).toEqual({ rule: 'authorization.allowMethodOverride' });
    }
    for (const query of ['_method=DELETE', '_METHOD=delete', '%5Fmethod=DELETE', 'a=1&_method']) {
      expect((await h.send(`/users/alice?${query}`, { identity: alice })).error?.code, query).toBe('RAMPART_METHOD_OVERRIDE');
    }
    expect((await h.send('/users/alice?method=x&my_methods=1', { identity: alice })).error).toBeUndefined();
  });

  it('refuses mass assignment of read-only fields, spelled any way', async () => {
    for (const body of ['{"role":"admin"}', '{"ROLE":"admin"}', '{"name":"A","tenant":"globex"}', '{"name":"A","name":"B"}']) {
      const { error } = await h.send('/users/alice', { method: 'PATCH', identity: alice, body, headers: { 'content-type': 'application/json' } });
      expect(error?.code, body).toMatch(/RAMPART_FORBIDDEN|RAMPART_BAD_REQUEST/);
    }
    const { error } = await h.send('/users/alice', { method: 'PATCH', identity: alice, body: '{"name":"Alice B."}', headers: { 'content-type': 'application/json' } });
    expect(error).toBeUndefined();
  });

  it('refuses bodies it cannot read as JSON where body rules apply (form-encoded mass assignment)', async () => {
    const { error } = await h.send('/users/alice', { method: 'PATCH', identity: alice, body: 'role=admin', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(error?.code).toBe('RAMPART_BAD_REQUEST');
  });

  it('lets an admin write the role (bypass) but not delete (function-level rule is separate)', async () => {
    const admin = { ...alice, roles: ['admin'] };
    expect((await h.send('/users/bob', { method: 'PATCH', identity: admin, body: '{"role":"support"}' })).error).toBeUndefined();
    const { error, ctx } = await h.send('/users/bob', { method: 'DELETE', identity: alice });
    expect(error?.code).toBe('RAMPART_FORBIDDEN');
    expect(ctx.events[0]?.data).toEqual({ rule: 'adminOnly.delete' });
  });

  it('strips forbidden fields from JSON responses for callers without the bypass', async () => {
    const { ctx } = await h.send('/users/alice', { identity: alice });
    expect(ctx.upstreamHeaders['accept-encoding']).toBe('identity');
    const head: ResponseHead = { statusCode: 200, headers: { 'content-type': 'application/json; charset=utf-8', etag: '"v1"' } };
    stage.onResponseHead!(ctx, head);
    expect(ctx.responseBuffered).toBe(true);
    const out = await stage.onResponseBody!(ctx, head, Buffer.from('{"id":"alice","internalNotes":"x","nested":{"internalNotes":"kept: not this path"}}'));
    expect(JSON.parse(out.toString())).toEqual({ id: 'alice', nested: { internalNotes: 'kept: not this path' } });
    expect(head.headers.etag).toBeUndefined();
  });

  it('leaves responses alone for bypass holders and for non-JSON bodies', async () => {
    const { ctx } = await h.send('/users/bob', { identity: support });
    const head: ResponseHead = { statusCode: 200, headers: { 'content-type': 'application/json' } };
    stage.onResponseHead!(ctx, head);
    expect(ctx.responseBuffered).toBe(false);
    const mine = (await h.send('/users/alice', { identity: alice })).ctx;
    stage.onResponseHead!(mine, { statusCode: 200, headers: { 'content-type': 'image/png' } });
    expect(mine.responseBuffered).toBe(false);
  });

  it('fails closed on responses it cannot filter (compressed, or declared JSON but not JSON)', async () => {
    const { ctx } = await h.send('/users/alice', { identity: alice });
    const gz: ResponseHead = { statusCode: 200, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } };
    stage.onResponseHead!(ctx, gz);
    expect(() => stage.onResponseBody!(ctx, gz, Buffer.from('x'))).toThrow(/could not be processed/);
    const bad: ResponseHead = { statusCode: 200, headers: { 'content-type': 'application/json' } };
    expect(() => stage.onResponseBody!(ctx, bad, Buffer.from('{"internalNotes":'))).toThrow(RampartError);
  });
});

describe('deny by default', () => {
  it('an authenticating route without an authorize stage refuses every identity, naming the rule', () => {
    const stage = implicitAuthorizeStage(config, route, true)!;
    const ctx = { method: 'GET', path: '/users/alice', params: { userId: 'alice' }, query: '', req: { headers: {} }, identity: alice, events: [] as unknown[], emit(e: unknown) { this.events.push(e); } };
    expect(() => stage.handle!(ctx as unknown as RequestContext)).toThrow(expect.objectContaining({ code: 'RAMPART_FORBIDDEN', reason: 'routes.users.deny-by-default: route authenticates but has no authorize stage' }));
  });

  it('a public route gets no stage when there is nothing to enforce', () => {
    const open = parseConfigText('upstreams: { d: { url: "http://127.0.0.1:1" } }\nauthorization: { allowMethodOverride: true }\nroutes: [{ id: r, path: /x, upstream: d }]').config;
    expect(implicitAuthorizeStage(open, open.routes[0]!, false)).toBeUndefined();
    expect(implicitAuthorizeStage(config, route, false)).toBeDefined();
  });
});
