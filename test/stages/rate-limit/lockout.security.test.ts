/**
 * Brute-force lockout: the attack (repeated failed authentications from one address, or against one
 * principal) is stopped, and the legitimate client is still let through; an operator clears it.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../../src/admin/server.js';
import { RampartError } from '../../../src/core/errors.js';
import { limitsAdminRoutes } from '../../../src/stages/rate-limit/admin.js';
import { call, startGateway, TEST_LISTENERS, type TestGateway } from '../../helpers/gateway.js';
import { BAD_BASIC, GOOD_BASIC, startTestUpstream, type TestUpstream } from './upstream.js';

const ADMIN_TOKEN = 'test-admin-token';
let gw: TestGateway;
let up: TestUpstream;
let admin: AdminServer;
let adminUrl: string;

beforeAll(async () => {
  up = await startTestUpstream();
  gw = await startGateway(`${TEST_LISTENERS}
counters: memory
trustedProxies: [127.0.0.1]
upstreams:
  app: { url: "${up.url}" }
routes:
  - id: login
    path: /login/**
    upstream: app
    stages:
      - { type: lockout, threshold: 3, windowSeconds: 600, baseSeconds: 60, maxSeconds: 600 }
`);
  // The gateway's own admin listener gets its authenticator from the keys module; here a fixed
  // test token stands in for it so the limits routes can be exercised on a real admin listener.
  admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, gw.gateway.services, {
    ready: () => true,
    routes: limitsAdminRoutes(gw.gateway.services),
    authenticate: (req: IncomingMessage) => {
      if (req.headers.authorization !== `Bearer ${ADMIN_TOKEN}`) throw new RampartError('RAMPART_ADMIN_FORBIDDEN', 'no');
      return { id: 't1', name: 'tester', role: 'admin' };
    },
  });
  adminUrl = `http://127.0.0.1:${admin.port}`;
});

afterAll(async () => {
  await admin?.close();
  await gw?.stop();
  await up?.close();
});

const from = (ip: string, auth: string): Record<string, string> => ({ 'x-forwarded-for': ip, authorization: auth });
const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20)); // failures are recorded after the response

describe('lockout', () => {
  it('locks out an address after repeated failures, even when it then guesses right', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await call(`${gw.https}/login`, { headers: from('198.51.100.1', `Basic ${Buffer.from(`u${i}:x`).toString('base64')}`) })).status).toBe(401);
      await settle();
    }
    const locked = await call(`${gw.https}/login`, { headers: from('198.51.100.1', GOOD_BASIC) });
    expect(locked.status).toBe(429);
    expect(locked.json()).toMatchObject({ code: 'RAMPART_AUTH_LOCKED_OUT' });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('still lets a legitimate client from another address in', async () => {
    expect((await call(`${gw.https}/login`, { headers: from('198.51.100.2', GOOD_BASIC) })).status).toBe(200);
  });

  it('locks out a targeted principal across addresses (a distributed guess), before checking the credential', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await call(`${gw.https}/login`, { headers: from(`203.0.113.${i + 1}`, BAD_BASIC) })).status).toBe(401);
      await settle();
    }
    // the right password from a fresh address: refused the same way as a wrong one (no oracle)
    const right = await call(`${gw.https}/login`, { headers: from('203.0.113.50', GOOD_BASIC) });
    const wrong = await call(`${gw.https}/login`, { headers: from('203.0.113.51', BAD_BASIC) });
    expect(right.status).toBe(429);
    expect(wrong.status).toBe(429);
    expect(right.json<{ detail: string }>().detail).toBe(wrong.json<{ detail: string }>().detail);
    // another principal is unaffected
    const bob = `Basic ${Buffer.from('bob:pw').toString('base64')}`;
    expect((await call(`${gw.https}/login`, { headers: from('203.0.113.50', bob) })).status).toBe(401);
  });

  it('shows lockouts to operators and lets them clear one', async () => {
    expect((await call(`${adminUrl}/admin/v1/limits/lockouts`)).status).toBe(403);
    const list = await call(`${adminUrl}/admin/v1/limits/lockouts`, { headers: adminHeaders });
    expect(list.status).toBe(200);
    const keys = list.json<{ lockouts: { key: string; locked: boolean }[] }>().lockouts.filter((l) => l.locked).map((l) => l.key);
    expect(keys).toEqual(expect.arrayContaining(['lockout:ip:198.51.100.1', 'lockout:principal:alice']));
    const one = await call(`${adminUrl}/admin/v1/limits/${encodeURIComponent('lockout:principal:alice')}`, { headers: adminHeaders });
    expect(one.json()).toMatchObject({ kind: 'lockout', state: { level: 1 } });
    const cleared = await call(`${adminUrl}/admin/v1/limits/${encodeURIComponent('lockout:principal:alice')}`, { method: 'DELETE', headers: adminHeaders });
    expect(cleared.status).toBe(204);
    expect((await call(`${gw.https}/login`, { headers: from('203.0.113.50', GOOD_BASIC) })).status).toBe(200);
    const again = await call(`${adminUrl}/admin/v1/limits/${encodeURIComponent('lockout:principal:alice')}`, { method: 'DELETE', headers: adminHeaders });
    expect(again.status).toBe(404);
  });

  it('refuses malformed admin keys with a problem, not a crash', async () => {
    const bad = await call(`${adminUrl}/admin/v1/limits/${encodeURIComponent('nope:*')}`, { method: 'DELETE', headers: adminHeaders });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'RAMPART_BAD_REQUEST' });
    expect((await call(`${adminUrl}/admin/v1/limits?max=0`, { headers: adminHeaders })).status).toBe(400);
  });

  it('does not let a forged X-Forwarded-For from an untrusted peer dodge the address lockout', async () => {
    // Tested on a second gateway whose trustedProxies is empty: the peer address is what counts.
    const strict = await startGateway(`${TEST_LISTENERS}
counters: memory
upstreams:
  app: { url: "${up.url}" }
routes:
  - { id: login, path: /login, upstream: app, stages: [{ type: lockout, by: [ip], threshold: 2 }] }
`);
    try {
      for (let i = 0; i < 2; i++) {
        await call(`${strict.https}/login`, { headers: from(`192.0.2.${i}`, BAD_BASIC) });
        await settle();
      }
      expect((await call(`${strict.https}/login`, { headers: from('192.0.2.99', GOOD_BASIC) })).status).toBe(429);
    } finally {
      await strict.stop();
    }
  });
});
