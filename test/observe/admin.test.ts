/**
 * Admin API of the observe module on a real admin listener: `/metrics` (token required, bounded
 * labels) and `/admin/v1/events` (filters, pagination, precise 400s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timingSafeEqual } from 'node:crypto';
import { startAdminServer, type AdminServer } from '../../src/admin/server.js';
import { RampartError } from '../../src/core/errors.js';
import { observeAdminRoutes } from '../../src/observe/admin.js';
import { call, TEST_LISTENERS } from '../helpers/gateway.js';
import { startObservedGateway } from './helpers.js';

const TOKEN = 'test-admin-token-0123456789';

describe('observe admin API', () => {
  let gw: Awaited<ReturnType<typeof startObservedGateway>>;
  let admin: AdminServer;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    gw = await startObservedGateway(`${TEST_LISTENERS}
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: "/pets/**"
    upstream: pets
    stages: [{ type: cors, origins: ["https://app.example.com"] }]
`);
    // A minimal token check standing in for the admin authenticator (built by another module).
    admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, gw.gateway.services, {
      ready: () => true,
      routes: observeAdminRoutes(gw.gateway.observer, gw.gateway.config),
      authenticate(req) {
        const given = Buffer.from(req.headers.authorization ?? '');
        const want = Buffer.from(`Bearer ${TOKEN}`);
        if (given.length !== want.length || !timingSafeEqual(given, want)) throw new RampartError('RAMPART_AUTH_REQUIRED', 'An admin token is required.');
        return { id: 't1', name: 'test', role: 'auditor' };
      },
    });
    base = `http://127.0.0.1:${admin.port}`;
    for (let i = 0; i < 3; i++) await call(`${gw.https}/pets`);
    for (let i = 0; i < 7; i++) await call(`${gw.https}/pets/${1000 + i}?secret=1`, { headers: { origin: 'https://evil.example' } });
    await call(`${gw.https}/nowhere/${'x'.repeat(50)}`);
    await gw.gateway.observer.flush();
  });
  afterAll(async () => {
    await admin.close();
    await gw.stop();
  });

  it('/metrics needs a token', async () => {
    expect((await call(`${base}/metrics`)).status).toBe(401);
    expect((await call(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
  });

  it('/metrics shows requests, latency, denials, events and audit health with bounded labels only', async () => {
    const res = await call(`${base}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const m = res.text;
    expect(m).toMatch(/rampart_requests_total\{route="pets",method="GET",status_class="2xx"\} 3/);
    expect(m).toMatch(/rampart_requests_total\{route="pets",method="GET",status_class="4xx"\} 7/);
    expect(m).toMatch(/rampart_requests_total\{route="none",method="GET",status_class="4xx"\} 1/);
    expect(m).toMatch(/rampart_request_duration_seconds_bucket\{le="0.001",route="pets",status_class="2xx"\}/);
    expect(m).toMatch(/rampart_denials_total\{route="pets",stage="cors",code="RAMPART_CORS_REJECTED"\} 7/);
    expect(m).toMatch(/rampart_security_events_total\{type="request.denied",severity="low"\} 7/);
    expect(m).toMatch(/rampart_audit_written_total 7/);
    expect(m).toMatch(/rampart_component_up\{component="audit_store"\} 1/);
    expect(m).toContain('rampart_process_');
    // No path, address or query ever becomes a label.
    expect(m).not.toMatch(/\/pets|127\.0\.0\.1|nowhere|secret/);
  });

  it('/admin/v1/events filters and pages', async () => {
    const first = await call(`${base}/admin/v1/events?type=request.*&limit=4`, { headers: auth });
    expect(first.status).toBe(200);
    const page1 = first.json<{ items: { seq: number; type: string; route: string; path: string }[]; next: number }>();
    expect(page1.items.map((e) => e.seq)).toEqual([7, 6, 5, 4]);
    expect(page1.items[0]).toMatchObject({ type: 'request.denied', route: 'pets', path: '/pets/1006' });
    const page2 = (await call(`${base}/admin/v1/events?type=request.*&limit=4&cursor=${page1.next}`, { headers: auth })).json<{ items: { seq: number }[]; next: null }>();
    expect(page2.items.map((e) => e.seq)).toEqual([3, 2, 1]);
    expect(page2.next).toBeNull();
    const none = (await call(`${base}/admin/v1/events?severity=high`, { headers: auth })).json<{ items: unknown[] }>();
    expect(none.items).toHaveLength(0);
    const byIp = (await call(`${base}/admin/v1/events?ip=127.0.0.1&since=1h&order=asc&limit=2`, { headers: auth })).json<{ items: { seq: number }[] }>();
    expect(byIp.items.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('/admin/v1/events refuses malformed filters with a precise problem', async () => {
    for (const q of ['limit=0', 'limit=abc', 'severity=urgent', 'since=yesterday', 'type=%27%20OR%201%3D1', 'bogus=1', 'cursor=-1', 'order=up', 'limit=1&limit=2']) {
      const res = await call(`${base}/admin/v1/events?${q}`, { headers: auth });
      expect(res.status, q).toBe(400);
      expect(res.json()).toMatchObject({ code: 'RAMPART_BAD_REQUEST' });
    }
  });

  it('/admin/v1/events/verify checks the chain', async () => {
    const res = await call(`${base}/admin/v1/events/verify`, { headers: auth });
    expect(res.json()).toMatchObject({ ok: true, checked: 7 });
  });
});
