import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_LISTENERS, call, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { parseConfigText } from '../../src/config/load.js';

let upstream: TestUpstream;
let gw: TestGateway;
const APP = 'https://app.example.com';

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(`${TEST_LISTENERS}
upstreams: { up: { url: ${upstream.url} } }
routes:
  - id: api
    path: /api/**
    upstream: up
    stages:
      - { type: cors, origins: ["${APP}"], methods: [GET, POST], headers: [Content-Type, Authorization], credentials: true, exposeHeaders: [X-Request-Id] }
  - id: public
    path: /public/**
    upstream: up
    stages:
      - { type: cors, origins: ["*"] }
`);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

describe('CORS', () => {
  it('answers an allowed preflight at the edge with the exact origin, never forwarding it', async () => {
    const res = await call(`${gw.https}/api/x`, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-methods']).toBe('GET, POST');
    expect(res.headers['access-control-allow-headers']).toBe('content-type');
    expect(upstream.received.some((r) => r.method === 'OPTIONS')).toBe(false);
  });

  it('never reflects an unknown origin; refuses it with 403', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'null', 'http://app.example.com']) {
      const res = await call(`${gw.https}/api/x`, { headers: { origin } });
      expect(res.status, origin).toBe(403);
      expect(res.json().code).toBe('RAMPART_CORS_REJECTED');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('refuses preflights for methods or headers outside the policy', async () => {
    const m = await call(`${gw.https}/api/x`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'DELETE' } });
    expect(m.status).toBe(403);
    const h = await call(`${gw.https}/api/x`, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-admin' },
    });
    expect(h.status).toBe(403);
  });

  it('adds CORS headers to allowed actual requests and lets same-origin (no Origin) requests through', async () => {
    const res = await call(`${gw.https}/api/x`, { headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['vary']).toContain('Origin');
    expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
    expect((await call(`${gw.https}/api/y`)).status).toBe(200);
  });

  it('serves "*" without credentials for public APIs', async () => {
    const res = await call(`${gw.https}/public/x`, { headers: { origin: 'https://anyone.example' } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('refuses at config load a wildcard with credentials', () => {
    expect(() =>
      parseConfigText(`upstreams: { u: { url: http://127.0.0.1:1 } }
routes: [{ id: r, path: /r, upstream: u, stages: [{ type: cors, origins: ["*"], credentials: true }] }]`),
    ).toThrow(/credentials: true cannot be combined with origin "\*"/);
  });
});
