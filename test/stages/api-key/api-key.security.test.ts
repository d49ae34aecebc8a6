/**
 * api_key attacks and their legitimate twins: forged/mistyped keys (refused before any store
 * lookup), keys of another environment, revoked/expired keys and suspended consumers (one uniform
 * 401), keys in the query string (refused unless enabled), foreign Bearer tokens (left to other
 * methods), and a store that is down (fail closed unless a cached decision exists).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredential } from '../../../src/keys/format.js';
import { call, startGateway, TEST_LISTENERS, type TestGateway } from '../../helpers/gateway.js';
import { adminCall, TEST_ADMIN_TOKEN } from '../../helpers/keys.js';
import { dropSchema, testSchema } from '../../conformance/backends.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

const routes = (store: string, extra = ''): string => `${TEST_LISTENERS}
store: "${store}"
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - { type: api_key }
      - { type: authorize, anyAuthenticated: true }   # deny by default otherwise
  - id: query
    path: /q/**
    upstream: pets
    stripPrefix: /q
    stages:
      - { type: api_key, queryParam: api_key }
      - { type: authorize, anyAuthenticated: true }   # deny by default otherwise
${extra}`;

async function withAdminToken<T>(fn: () => Promise<T>): Promise<T> {
  process.env.RAMPART_ADMIN_TOKEN = TEST_ADMIN_TOKEN;
  try {
    return await fn();
  } finally {
    delete process.env.RAMPART_ADMIN_TOKEN;
  }
}

async function newKey(admin: string, consumer: string, body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const res = await adminCall(admin, 'POST', '/admin/v1/keys', { consumer, ...body });
  expect(res.status, res.text).toBe(201);
  return res.json<{ id: string; key: string }>();
}

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

describe('api_key security', () => {
  let gw: TestGateway;
  let good: string;
  const lookups = { n: 0 };

  beforeAll(async () => {
    gw = await withAdminToken(() => startGateway(routes('sqlite:.rampart/rampart.db')));
    const store = gw.gateway.services.store;
    const find = store.findKeyByHash.bind(store);
    store.findKeyByHash = (h) => (lookups.n++, find(h));
    await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'app', scopes: ['pets:read', 'pets:write'], roles: ['reader'], tenant: 't1' });
    good = (await newKey(gw.admin, 'app')).key;
  });
  afterAll(() => gw.stop());

  it('a key with a bad checksum is refused without any store lookup; the real key works', async () => {
    const before = lookups.n;
    const forged = `${good.slice(0, -6)}${good.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
    const res = await call(`${gw.https}/pets`, { headers: bearer(forged) });
    expect(res.status).toBe(401);
    expect(res.json().code).toBe('RAMPART_AUTH_INVALID_KEY');
    expect(lookups.n).toBe(before);
    expect((await call(`${gw.https}/pets`, { headers: bearer(good) })).status).toBe(200);
  });

  it('a key of another environment is refused (rk_test_ on a live gateway)', async () => {
    const before = lookups.n;
    const res = await call(`${gw.https}/pets`, { headers: bearer(generateCredential('rk_test')) });
    expect(res.status).toBe(401);
    expect(lookups.n).toBe(before);
  });

  it('unknown, revoked, suspended and malformed keys all get the same body; the detail never names the reason', async () => {
    const revoked = await newKey(gw.admin, 'app');
    await adminCall(gw.admin, 'POST', `/admin/v1/keys/${revoked.id}/revoke`);
    await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'suspended-app' });
    const suspended = await newKey(gw.admin, 'suspended-app');
    expect((await call(`${gw.https}/pets`, { headers: bearer(suspended.key) })).status).toBe(200);
    await adminCall(gw.admin, 'POST', '/admin/v1/consumers/suspended-app/suspend');
    const bodies: string[] = [];
    for (const key of [generateCredential('rk_live'), revoked.key, suspended.key, 'rk_live_nonsense']) {
      const res = await call(`${gw.https}/pets`, { headers: bearer(key) });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="rampart", error="invalid_token"');
      const { instance: _i, ...rest } = res.json();
      bodies.push(JSON.stringify(rest));
      expect(res.text).not.toContain(key);
    }
    expect(new Set(bodies).size).toBe(1);
  });

  it('narrows scopes by the key and sets the identity (key scopes ⊆ consumer scopes)', async () => {
    const narrow = await newKey(gw.admin, 'app', { scopes: ['pets:read'] });
    const res = await call(`${gw.https}/pets`, { headers: bearer(narrow.key) });
    expect(res.status).toBe(200);
    const wide = await adminCall(gw.admin, 'POST', '/admin/v1/keys', { consumer: 'app', scopes: ['admin:all'] });
    expect(wide.status).toBe(400);
    expect(wide.json().code).toBe('RAMPART_ADMIN_INVALID_INPUT');
  });

  it('keys in the query string are ignored unless the route enables it', async () => {
    expect((await call(`${gw.https}/pets?api_key=${good}`)).status).toBe(401);
    expect((await call(`${gw.https}/q/pets?api_key=${good}`)).status).toBe(200);
    expect((await call(`${gw.https}/q/pets?api_key=${generateCredential('rk_live')}`)).status).toBe(401);
  });

  it('a Bearer token that is not an rk_ key is left to other methods (any-of): 401 AUTH_REQUIRED', async () => {
    const res = await call(`${gw.https}/pets`, { headers: bearer('eyJhbGciOiJIUzI1NiJ9.e30.x') });
    expect(res.status).toBe(401);
    expect(res.json().code).toBe('RAMPART_AUTH_REQUIRED');
  });

  it('oversized garbage in the header is refused without work', async () => {
    const res = await call(`${gw.https}/pets`, { headers: bearer(`rk_${'x'.repeat(4000)}`) });
    expect(res.status).toBe(401);
    expect(res.json().code).toBe('RAMPART_AUTH_INVALID_KEY');
  });
});

describe('the verified key never reaches the upstream (unless forwardKey)', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let key: string;

  beforeAll(async () => {
    up = await startUpstream();
    const route = (id: string, stage: string): string => `
  - id: ${id}
    path: /${id}/**
    upstream: echo
    stages:
      - ${stage}
      - { type: authorize, anyAuthenticated: true }`;
    gw = await withAdminToken(() =>
      startGateway(`${TEST_LISTENERS}
upstreams:
  echo: { url: "${up.url}" }
routes:${route('hdr', '{ type: api_key, header: X-API-Key }')}${route('qry', '{ type: api_key, queryParam: api_key }')}${route('fwd', '{ type: api_key, forwardKey: true }')}
`),
    );
    await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'echo-app', roles: ['reader'] });
    key = (await newKey(gw.admin, 'echo-app')).key;
  });
  afterAll(async () => {
    await gw.stop();
    await up.close();
  });

  const last = (): TestUpstream['received'][number] => up.received[up.received.length - 1]!;

  it('Bearer and header keys are removed; the upstream gets the identity and every other header', async () => {
    expect((await call(`${gw.https}/hdr/a`, { headers: { ...bearer(key), 'x-trace': 't1' } })).status).toBe(200);
    expect(last().headers.authorization).toBeUndefined();
    expect(last().headers['x-rampart-consumer']).toBe('echo-app');
    expect(last().headers['x-trace']).toBe('t1');
    expect((await call(`${gw.https}/hdr/a`, { headers: { 'x-api-key': key } })).status).toBe(200);
    expect(last().headers['x-api-key']).toBeUndefined();
    expect(JSON.stringify(up.received)).not.toContain(key);
  });

  it('a key in the query string is removed; the other parameters keep their bytes and order', async () => {
    expect((await call(`${gw.https}/qry/a?x=1&api_key=${key}&y=%41+b&api%5Fkey=${key}`)).status).toBe(200);
    expect(last().url).toBe('/qry/a?x=1&y=%41+b');
  });

  it('forwardKey: true passes the key on (the legitimate twin for upstreams that need it)', async () => {
    expect((await call(`${gw.https}/fwd/a`, { headers: bearer(key) })).status).toBe(200);
    expect(last().headers.authorization).toBe(`Bearer ${key}`);
  });
});

/** A TCP relay to PostgreSQL that the test can cut, to take the store down for real. */
async function relay(target: { host: string; port: number }): Promise<{ port: number; cut(): Promise<void> }> {
  const { connect } = await import('node:net');
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    cut: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('api_key with the store down (PostgreSQL behind a relay we cut)', () => {
  let gw: TestGateway;
  const schema = testSchema('storedown');
  afterAll(async () => {
    await gw?.stop();
    await dropSchema(schema);
  });

  it('fails closed with 503 for undecided keys, while cached decisions keep working', async () => {
    const pgUrl = new URL(process.env.RAMPART_TEST_PG_URL!);
    const r = await relay({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    pgUrl.port = String(r.port);
    pgUrl.searchParams.set('schema', schema);
    gw = await withAdminToken(() => startGateway(routes(pgUrl.toString())));
    await adminCall(gw.admin, 'POST', '/admin/v1/consumers', { name: 'app' });
    const cached = await newKey(gw.admin, 'app');
    const uncached = await newKey(gw.admin, 'app');
    expect((await call(`${gw.https}/pets`, { headers: bearer(cached.key) })).status).toBe(200);

    await r.cut();
    const down = await call(`${gw.https}/pets`, { headers: bearer(uncached.key) });
    expect(down.status).toBe(503);
    expect(down.json().code).toBe('RAMPART_STORE_UNAVAILABLE');
    expect(down.headers['retry-after']).toBe('1');
    expect(down.text).not.toMatch(/ECONNREFUSED|postgres|127\.0\.0\.1/);
    expect((await call(`${gw.https}/pets`, { headers: bearer(cached.key) })).status).toBe(200);
    // A malformed key needs no store: still a plain 401.
    expect((await call(`${gw.https}/pets`, { headers: bearer('rk_live_bad') })).status).toBe(401);
    const admin = await adminCall(gw.admin, 'GET', '/admin/v1/consumers');
    expect(admin.status).toBe(503);
    expect(admin.json().code).toBe('RAMPART_STORE_UNAVAILABLE');
  });
});
