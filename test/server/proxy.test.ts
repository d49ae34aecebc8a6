import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startGateway, TEST_LISTENERS, call, insecureAgent, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { rawRequest } from '../helpers/raw.js';

let upstream: TestUpstream;
let slow: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startUpstream();
  slow = await startUpstream((req, res) => {
    if (req.url === '/slow/head') return; // never answers: header timeout
    if (req.url === '/slow/body') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      return; // never finishes: body timeout after headers were sent
    }
    res.writeHead(200).end('ok');
  });
  gw = await startGateway(`${TEST_LISTENERS}
trustedProxies: [127.0.0.2, 10.0.0.0/8]
upstreams:
  up: { url: ${upstream.url}/base }
  slow: { url: ${slow.url}, headersTimeoutMs: 300, bodyTimeoutMs: 300 }
  down: { url: http://127.0.0.1:1, connectTimeoutMs: 300 }
routes:
  - { id: api, path: /api/**, upstream: up, stripPrefix: /api }
  - { id: slow, path: /slow/**, upstream: slow }
  - { id: down, path: /down, upstream: down }
`);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
  await slow?.close();
});

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

describe('forwarding', () => {
  it('rewrites the path, sets forwarding headers, strips hop-by-hop and spoofed ones', async () => {
    const res = await call(`${gw.https}/api/items/7?x=1`, {
      headers: {
        'x-forwarded-for': '6.6.6.6',
        forwarded: 'for=6.6.6.6',
        'x-request-id': 'attacker-chosen',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'x-keep': 'yes',
      },
    });
    expect(res.status).toBe(200);
    const echo = res.json<Echo>();
    expect(echo.url).toBe('/base/items/7?x=1');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-forwarded-proto']).toBe('https');
    expect(echo.headers['x-forwarded-host']).toBe('127.0.0.1');
    expect(echo.headers['forwarded']).toBe('for=127.0.0.1;host="127.0.0.1";proto=https');
    expect(echo.headers['proxy-authorization']).toBeUndefined();
    expect(echo.headers['x-keep']).toBe('yes');
    // An untrusted client cannot choose the request id.
    expect(echo.headers['x-request-id']).not.toBe('attacker-chosen');
    expect(echo.headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('drops headers the client lists in Connection (hop-by-hop)', async () => {
    const raw = await rawRequest(gw.https, 'GET /api/hop HTTP/1.1\r\nHost: x\r\nConnection: close, x-secret-hop\r\nX-Secret-Hop: drop me\r\nKeep-Alive: 5\r\nTE: trailers\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    const seen = upstream.received.find((r) => r.url === '/base/hop')!;
    expect(seen.headers['x-secret-hop']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers['te']).toBeUndefined();
  });

  it('never lets a client set the identity headers sent upstream', async () => {
    const res = await call(`${gw.https}/api/spoof`, { headers: { 'x-rampart-consumer': 'admin', 'X-Rampart-Roles': 'admin', 'x-rampart-tenant': 't1' } });
    const echo = res.json<Echo>();
    expect(echo.headers['x-rampart-consumer']).toBeUndefined();
    expect(echo.headers['x-rampart-roles']).toBeUndefined();
    expect(echo.headers['x-rampart-tenant']).toBeUndefined();
  });

  it('strips Server and X-Powered-By and adds the security headers', async () => {
    const res = await call(`${gw.https}/api/h`);
    expect(res.headers['server']).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('upstream failures', () => {
  it('maps a header timeout to 504 and an unreachable upstream to 502, without internals', async () => {
    const t = await call(`${gw.https}/slow/head`);
    expect(t.status).toBe(504);
    expect(t.json().code).toBe('RAMPART_UPSTREAM_TIMEOUT');
    const d = await call(`${gw.https}/down`);
    expect(d.status).toBe(502);
    expect(d.json().code).toBe('RAMPART_UPSTREAM_UNAVAILABLE');
    expect(d.text).not.toContain('127.0.0.1:1');
    expect(d.text).not.toContain('ECONNREFUSED');
  });

  it('cuts the client connection when the upstream stalls after the headers', async () => {
    const res = await request(`${gw.https}/slow/body`, { dispatcher: insecureAgent });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });
});
