/**
 * The openapi stage driven through its hooks (no network): write-only properties in responses,
 * parameters described with `content`, and the stage's synchronous path for bodiless requests.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/load.js';
import { RequestContext } from '../../../src/core/context.js';
import type { Services } from '../../../src/core/services.js';
import type { ResponseHead, Stage } from '../../../src/core/stage.js';
import { openapiStage } from '../../../src/stages/openapi/openapi.js';
import { tempDir } from '../../helpers/gateway.js';
import { requestContext as context } from '../../helpers/request-context.js';

const dir = tempDir('rampart-openapi-stage-');
writeFileSync(
  join(dir, 'users.yaml'),
  `
openapi: 3.1.0
info: { title: users, version: '1' }
paths:
  /users:
    get:
      parameters:
        - name: filter
          in: query
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                properties:
                  role: { type: string, enum: [user, admin] }
                  minAge: { type: integer, minimum: 0 }
        - name: X-Context
          in: header
          required: true
          content:
            application/json:
              schema: { type: object, required: [tenant], properties: { tenant: { type: string, pattern: '^[a-z]+$' } } }
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: { type: object, properties: { items: { type: array, items: { $ref: '#/components/schemas/User' } } } }
    post:
      requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
      responses:
        '201': { description: created, content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
  /users/{id}:
    get:
      parameters:
        - { name: id, in: path, required: true, schema: { type: integer } }
        - { name: sid, in: cookie, schema: { type: string, pattern: '^[a-z0-9]+$' } }
        - { name: prefs, in: cookie, content: { application/json: { schema: { type: object, additionalProperties: false, properties: { theme: { enum: [dark, light] } } } } } }
      responses:
        '200': { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
  /pets/{id}:
    get:
      parameters: [{ name: id, in: path, required: true, schema: { type: integer } }]
      responses:
        '200': { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/Pet' } } } }
  /tokens:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: { type: array, items: { type: string, writeOnly: true } }
  /search:
    get:
      parameters:
        - { name: q, in: query, content: { application/json: { schema: { type: array, items: { type: string } } } } }
      responses: { '204': { description: none } }
components:
  schemas:
    Animal:
      type: object
      required: [id]
      properties: { id: { type: integer }, name: { type: string } }
    Pet:
      allOf:
        - $ref: '#/components/schemas/Animal'
        - type: object
          properties:
            species: { type: string }
            labels: { type: object, additionalProperties: { type: string } }
            owner: { type: object, properties: { name: { type: string } } }
    User:
      type: object
      additionalProperties: false
      required: [id, name, password]
      properties:
        id: { type: integer, readOnly: true }
        name: { type: string }
        password: { type: string, writeOnly: true }
        passwordHash: { type: string, writeOnly: true }
        profile:
          type: object
          properties:
            bio: { type: string }
            recoveryCode: { type: string, writeOnly: true }
`,
);

const services = { logger: pino({ level: 'silent' }), emit: () => undefined } as unknown as Services;

async function stageWith(extra: string): Promise<Stage> {
  const { config, baseDir } = parseConfigText(
    `
upstreams: { users: { url: "http://127.0.0.1:1" } }
routes:
  - id: users
    path: /**
    upstream: users
    stages:
      - { type: openapi, spec: users.yaml, ${extra} }
`,
    { baseDir: dir },
  );
  const route = config.routes[0]!;
  const entry = route.stages[0]!;
  if (entry.type !== 'openapi') throw new Error('expected the openapi stage');
  return openapiStage.create(entry, { services, config, route, baseDir });
}

const filter = await stageWith('responses: filter');
const enforce = await stageWith('responses: enforce');
const shallow = await stageWith('limits: { maxDepth: 2 }');


/** Runs the request side; resolves to the validation detail, or undefined when the request passes. */
async function request(stage: Stage, method: string, target: string, headers?: Record<string, string>, body?: string): Promise<string | undefined> {
  try {
    await stage.handle!(context(method, target, headers, body));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A request that passed, then its upstream response through the response hooks. */
async function respond(stage: Stage, target: string, status: number, upstream: unknown, body?: string): Promise<{ ctx: RequestContext; sent: Buffer; original: Buffer }> {
  const ctx = context(body === undefined ? 'GET' : 'POST', target, { 'x-context': '{"tenant":"acme"}' }, body);
  await stage.handle!(ctx);
  const original = Buffer.from(JSON.stringify(upstream));
  const head: ResponseHead = { statusCode: status, headers: { 'content-type': 'application/json' } };
  stage.onResponseHead!(ctx, head);
  expect(ctx.responseBuffered).toBe(true);
  return { ctx, sent: await stage.onResponseBody!(ctx, head, original), original };
}

const json = (buf: Buffer): unknown => JSON.parse(buf.toString('utf8'));
const ctx = { 'x-context': '{"tenant":"acme"}' };

describe('response filtering keeps what composed schemas and maps declare', () => {
  it('keeps the fields of every allOf member and every map entry; removes only what none declares', async () => {
    const pet = { id: 7, name: 'Rex', species: 'dog', labels: { colour: 'brown', chip: 'A-1' }, owner: { name: 'alice' } };
    const clean = await respond(filter, '/pets/7', 200, pet);
    expect(clean.sent).toBe(clean.original);
    expect(clean.ctx.events).toEqual([]);
    // The attack twin: an upstream leaking internal fields at the top level and inside a nested object.
    const { ctx, sent } = await respond(enforce, '/pets/7', 200, { ...pet, internalNotes: 'vip', owner: { name: 'alice', email: 'a@example.com' } });
    expect(json(sent)).toEqual(pet);
    expect([...(ctx.events[0]?.data?.removed as string[])].sort()).toEqual(['body.internalNotes', 'body.owner.email']);
  });

  it('a map value of the wrong type is an invalid response, not a reason to drop the map', async () => {
    await expect(respond(enforce, '/pets/7', 200, { id: 7, labels: { colour: 5 } })).rejects.toMatchObject({ code: 'RAMPART_UPSTREAM_BAD_RESPONSE' });
  });

  it('a declared-JSON response the strict parser refuses is never passed on unfiltered', async () => {
    const ctx = context('GET', '/pets/7', { 'x-context': '{"tenant":"acme"}' });
    await filter.handle!(ctx);
    const head: ResponseHead = { statusCode: 200, headers: { 'content-type': 'application/json' } };
    filter.onResponseHead!(ctx, head);
    // Duplicate keys: one reader sees the first value, another the last; the leak hides in the twin.
    const twin = Buffer.from('{"id":7,"name":"Rex","name":"Rex","secret":"s"}');
    expect(() => filter.onResponseBody!(ctx, head, twin)).toThrow(expect.objectContaining({ code: 'RAMPART_UPSTREAM_BAD_RESPONSE', status: 502 }));
  });
});

describe('writeOnly properties in responses', () => {
  it('removes a leaked password hash and records a response.leak event naming it', async () => {
    const { ctx, sent } = await respond(filter, '/users/1', 200, { id: 1, name: 'alice', passwordHash: '$2b$12$abcdefghijklmnopqrstuv' });
    expect(json(sent)).toEqual({ id: 1, name: 'alice' });
    expect(sent.toString()).not.toContain('$2b$');
    expect(ctx.events).toEqual([expect.objectContaining({ type: 'response.leak', data: { operation: 'GET /users/{id}', removed: ['body.passwordHash'] } })]);
  });

  it('removes write-only properties at any depth and in array items, along with undeclared ones', async () => {
    const leaked = { items: [{ id: 1, name: 'a', password: 'hunter2', profile: { bio: 'hi', recoveryCode: 'R-1' } }, { id: 2, name: 'b', ssn: '078-05-1120' }] };
    const { ctx, sent } = await respond(filter, '/users?filter=%7B%7D', 200, leaked);
    expect(json(sent)).toEqual({ items: [{ id: 1, name: 'a', profile: { bio: 'hi' } }, { id: 2, name: 'b' }] });
    expect(ctx.events[0]?.data?.removed).toEqual(['body.items[].password', 'body.items[].profile.recoveryCode', 'body.items[].ssn']);
  });

  it('enforce mode removes them too, and does not count a write-only required property as missing', async () => {
    const leak = await respond(enforce, '/users', 201, { id: 3, name: 'c', password: 'hunter2' }, '{"name":"c","password":"hunter2"}');
    expect(json(leak.sent)).toEqual({ id: 3, name: 'c' });
    // The legitimate twin: `password` is required, but only in requests; the response omits it.
    const clean = await respond(enforce, '/users/3', 200, { id: 3, name: 'c' });
    expect(clean.sent).toBe(clean.original);
    expect(clean.ctx.events).toEqual([]);
  });

  it('leaves a clean response byte-for-byte alone', async () => {
    const { ctx, sent, original } = await respond(filter, '/users/1', 200, { id: 1, name: 'alice', profile: { bio: 'loves cats' } });
    expect(sent).toBe(original);
    expect(ctx.events).toEqual([]);
  });

  it('a write-only array item cannot be removed: enforce refuses the response', async () => {
    await expect(respond(enforce, '/tokens', 200, ['tok_secret'])).rejects.toMatchObject({ code: 'RAMPART_UPSTREAM_BAD_RESPONSE', status: 502 });
    const empty = await respond(enforce, '/tokens', 200, []);
    expect(json(empty.sent)).toEqual([]);
  });

  it('requests may carry write-only properties; read-only ones are refused but no longer required', async () => {
    expect(await request(filter, 'POST', '/users', {}, '{"name":"d","password":"s3cret-pass"}')).toBeUndefined();
    expect(await request(filter, 'POST', '/users', {}, '{"name":"d"}')).toBe('body.password: is required');
    expect(await request(filter, 'POST', '/users', {}, '{"id":9,"name":"d","password":"x"}')).toBe('body.id: is read-only and cannot be sent');
  });
});

describe('parameters described with content (JSON)', () => {
  const get = (query: string, headers: Record<string, string> = ctx, stage = filter): Promise<string | undefined> => request(stage, 'GET', `/users?${query}`, headers);
  const q = (value: unknown): string => `filter=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`;

  it('parses and validates the JSON value, without coercion', async () => {
    expect(await get(q({ role: 'admin', minAge: 3 }))).toBeUndefined();
    expect(await get(q({ minAge: '3' }))).toBe('query.filter.minAge: must be integer');
    expect(await get(q({ role: 'root' }))).toBe('query.filter.role: must be equal to one of the allowed values');
  });

  it('refuses properties the schema does not declare (operator injection)', async () => {
    expect(await get(q({ role: 'user', $where: 'sleep(1000)' }))).toBe('query.filter.?where: is not a known property');
  });

  it('refuses malformed JSON, duplicate keys and prototype keys, without echoing the value', async () => {
    expect(await get('filter=role%3Dadmin')).toBe('query.filter: invalid JSON');
    expect(await get(q('{"role":"user","role":"admin"}'))).toBe('query.filter.role: duplicate key');
    expect(await get(q('{"__proto__":{"isAdmin":true}}'))).toMatch(/^query\.filter\.__proto__: forbidden property name/);
  });

  it('applies the structural limits of the stage', async () => {
    expect(await request(shallow, 'GET', `/search?q=${encodeURIComponent('[[["a"]]]')}`)).toBe('query.q[0][0]: nested deeper than 2 levels');
    expect(await request(shallow, 'GET', `/search?q=${encodeURIComponent('["a","b"]')}`)).toBeUndefined();
  });

  it('refuses a repeated content parameter (which copy would the upstream read?)', async () => {
    expect(await get(`${q({ role: 'user' })}&${q({ role: 'admin' })}`)).toBe('query.filter: must be a single value');
  });

  it('validates header parameters described with content, and requires them when required', async () => {
    expect(await get('', { 'x-context': '{"tenant":"acme"}' })).toBeUndefined();
    expect(await get('', { 'x-context': '{"tenant":"acme\' OR 1=1"}' })).toBe('header.x-context.tenant: must match pattern "^[a-z]+$"');
    expect(await get('', { 'x-context': '{}' })).toBe('header.x-context.tenant: is required');
    expect(await get('', {})).toBe('header.x-context: is required');
  });
});

describe('cookie parameters', () => {
  const get = (cookie: string): Promise<string | undefined> => request(filter, 'GET', '/users/1', { cookie });

  it('validate the whole value, `=` included (not just what precedes it)', async () => {
    expect(await get('sid=abc123')).toBeUndefined();
    expect(await get('sid=abc123=<script>')).toBe('cookie.sid: must match pattern "^[a-z0-9]+$"');
  });

  it('parse and validate JSON cookies described with content', async () => {
    expect(await get('sid=abc; prefs={"theme":"dark"}')).toBeUndefined();
    expect(await get('prefs={"theme":"dark","admin":true}')).toBe('cookie.prefs.admin: is not a known property');
  });
});

describe('stage shape', () => {
  it('answers bodiless requests synchronously (no promise) and still refuses them synchronously', () => {
    expect(filter.handle!(context('GET', '/users/1'))).toBeUndefined();
    expect(() => filter.handle!(context('GET', '/users/x'))).toThrow('path.id: must be integer');
    expect(() => filter.handle!(context('POST', '/users'))).toThrow('body: is required');
  });

  it('has no response hooks when responses are off (nothing is buffered)', () => {
    expect(shallow.onResponseHead).toBeUndefined();
    expect(shallow.onResponseBody).toBeUndefined();
  });
});
