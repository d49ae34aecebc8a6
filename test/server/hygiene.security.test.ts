import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, TEST_LISTENERS, call, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { rawRequest, statusOf } from '../helpers/raw.js';

let upstream: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(`${TEST_LISTENERS}
limits: { maxHeaderCount: 30, maxHeaderBytes: 4096, maxUrlLength: 512, maxBodyBytes: 1000 }
upstreams:
  up: { url: ${upstream.url} }
routes:
  - { id: api, path: /api/**, upstream: up }
  - { id: big, path: /big/**, upstream: up, limits: { maxBodyBytes: 5000 } }
`);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

function problemOf(raw: string): { code: string; status: number } {
  const start = raw.indexOf('\r\n\r\n') + 4;
  const length = Number(/content-length: (\d+)/i.exec(raw)?.[1] ?? raw.length);
  return JSON.parse(raw.slice(start, start + length)) as { code: string; status: number };
}

/** Sends a raw request and checks the upstream never saw anything for `marker`. */
async function refused(payload: string, marker: string): Promise<{ status: number; code: string }> {
  const raw = await rawRequest(gw.https, payload);
  expect(upstream.received.some((r) => r.url.includes(marker))).toBe(false);
  // Exactly one response: the connection is closed after a refusal, nothing else is parsed.
  expect(raw.split('HTTP/1.1 ').length - 1).toBe(1);
  return { status: statusOf(raw), code: statusOf(raw) === 0 ? '' : problemOf(raw).code };
}

describe('request smuggling', () => {
  it('refuses Content-Length together with Transfer-Encoding (CL.TE / TE.CL) and never forwards it', async () => {
    const r = await refused(
      'POST /api/clte HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG',
      'clte',
    );
    expect(r.status).toBe(400);
    expect(r.code).toBe('RAMPART_REQUEST_SMUGGLING');
  });

  it('refuses duplicate Content-Length headers, even equal ones', async () => {
    for (const [a, b, m] of [['5', '6', 'dupcl1'], ['5', '5', 'dupcl2']] as const) {
      const r = await refused(`POST /api/${m} HTTP/1.1\r\nHost: x\r\nContent-Length: ${a}\r\nContent-Length: ${b}\r\n\r\nhello`, m);
      expect(r.status).toBe(400);
    }
  });

  it('refuses malformed Content-Length', async () => {
    for (const [cl, m] of [['+5', 'clplus'], ['5 ,5', 'clcomma'], ['0x5', 'clhex'], ['-1', 'clneg']] as const) {
      const r = await refused(`POST /api/${m} HTTP/1.1\r\nHost: x\r\nContent-Length: ${cl}\r\n\r\nhello`, m);
      expect(r.status).toBe(400);
    }
  });

  it('refuses obfuscated Transfer-Encoding', async () => {
    const variants = [
      'Transfer-Encoding: xchunked',
      'Transfer-Encoding: chunked, identity',
      'Transfer-Encoding: identity, chunked',
      'Transfer-Encoding : chunked',
      'Transfer-Encoding:\tchunked\r\nTransfer-Encoding: identity',
      'Transfer-Encoding: CHUNKED',
    ];
    for (const [i, te] of variants.entries()) {
      const m = `obfte${i}`;
      const r = await refused(`POST /api/${m} HTTP/1.1\r\nHost: x\r\n${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, m);
      expect(r.status, te).toBe(400);
    }
  });

  it('still forwards a well-formed chunked body and a well-formed Content-Length body', async () => {
    const chunked = await rawRequest(gw.https, 'POST /api/okchunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expect(statusOf(chunked)).toBe(200);
    const cl = await call(`${gw.https}/api/okcl`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(cl.status).toBe(200);
    const got = upstream.received.filter((r) => r.url === '/api/okchunked' || r.url === '/api/okcl');
    expect(got.map((r) => r.body)).toEqual(['hello', 'hello']);
  });
});

describe('size limits', () => {
  it('answers 431 for too many header fields and for an oversized head', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: v`).join('\r\n');
    const r1 = await refused(`GET /api/many HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`, 'many');
    expect(r1).toEqual({ status: 431, code: 'RAMPART_HEADERS_TOO_LARGE' });
    const r2 = await refused(`GET /api/huge HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`, 'huge');
    expect(r2).toEqual({ status: 431, code: 'RAMPART_HEADERS_TOO_LARGE' });
    const ok = await call(`${gw.https}/api/fewheaders`, { headers: { 'x-a': '1', 'x-b': '2' } });
    expect(ok.status).toBe(200);
  });

  it('answers 414 for an overlong URL', async () => {
    const res = await call(`${gw.https}/api/long?${'q'.repeat(600)}`);
    expect(res.status).toBe(414);
    expect(res.json().code).toBe('RAMPART_URI_TOO_LONG');
  });

  it('answers 413 for a body over the limit (declared and chunked), honouring per-route overrides', async () => {
    const declared = await call(`${gw.https}/api/body1`, { method: 'POST', body: 'x'.repeat(1001) });
    expect(declared.status).toBe(413);
    expect(declared.headers['content-type']).toBe('application/problem+json');
    expect(declared.json().code).toBe('RAMPART_BODY_TOO_LARGE');
    const chunks = `${'400\r\n' + 'y'.repeat(1024) + '\r\n'}0\r\n\r\n`;
    const streamed = await rawRequest(gw.https, `POST /api/body2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`);
    expect(statusOf(streamed)).toBe(413);
    const override = await call(`${gw.https}/big/body3`, { method: 'POST', body: 'x'.repeat(4000) });
    expect(override.status).toBe(200);
    const within = await call(`${gw.https}/api/body4`, { method: 'POST', body: 'x'.repeat(1000) });
    expect(within.status).toBe(200);
  });
});

describe('paths the upstream could read differently', () => {
  const bad = ['/api/../admin', '/api/%2e%2e/admin', '/api/.%2E/admin', '/api/a%2fb', '/api/a%5cb', '/api/a\\b', '/api/%00', '/api//double', '/api/%zz', '/api/./x', '/api/%c0%ae%c0%ae/'];
  it.each(bad)('refuses %s with 400 and never forwards it', async (path) => {
    const raw = await rawRequest(gw.https, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(statusOf(raw)).toBe(400);
    expect(upstream.received.some((r) => r.url === path)).toBe(false);
  });

  it('lets through encoded characters that are not separators', async () => {
    const res = await call(`${gw.https}/api/caf%C3%A9/b%20c;v=1?x=%2F..%2F`);
    expect(res.status).toBe(200);
    expect(res.json().url).toBe('/api/caf%C3%A9/b%20c;v=1?x=%2F..%2F');
  });

  it('refuses absolute-form request targets', async () => {
    const raw = await rawRequest(gw.https, 'GET http://evil.example/api/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statusOf(raw)).toBe(400);
  });
});

describe('routing is deny by default', () => {
  it('answers 404 problem for unmatched paths and 405 with Allow for other methods', async () => {
    const res = await call(`${gw.https}/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const problem = res.json();
    expect(problem).toMatchObject({ status: 404, code: 'RAMPART_ROUTE_NOT_FOUND', instance: res.headers['x-request-id'] });
    expect(typeof problem.type).toBe('string');
    expect(typeof problem.title).toBe('string');
  });
});
