import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:tls';
import { startGateway, TEST_LISTENERS, call, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(`${TEST_LISTENERS}
limits: { headersTimeoutMs: 600, requestTimeoutMs: 1200 }
upstreams: { up: { url: ${upstream.url} } }
routes: [{ id: api, path: /api/**, upstream: up }]
`);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

/** Trickles `parts` one every `everyMs`; resolves with what the server said and when it closed. */
function trickle(parts: string[], everyMs: number): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port: gw.gateway.ports.https!, rejectUnauthorized: false });
    let response = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < parts.length && !socket.destroyed) socket.write(parts[i++]!);
    }, everyMs);
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, closedAfterMs: Date.now() - started });
    });
  });
}

describe('slow clients', () => {
  it('cuts off a client that trickles its headers (slowloris) with 408', async () => {
    const parts = ['GET /api/x HTTP/1.1\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: a\r\n`)];
    const { response, closedAfterMs } = await trickle(parts, 200);
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(response).toContain('RAMPART_REQUEST_TIMEOUT');
    expect(closedAfterMs).toBeLessThan(4000);
    expect(upstream.received.some((r) => r.url === '/api/x')).toBe(false);
  });

  it('cuts off a client that trickles its body, with 408, before the upstream sees anything', async () => {
    // A small declared body is read whole before forwarding: the upstream never gets the request head.
    const heads = upstream.received.length;
    const head = 'POST /api/slowbody HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n';
    const { response, closedAfterMs } = await trickle([head, ...Array.from({ length: 50 }, () => 'a')], 200);
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeLessThan(5000);
    expect(upstream.received.length).toBe(heads);
  });

  it('serves normal clients on the same limits: small bodies whole, large ones streamed, both intact', async () => {
    const small = 'x'.repeat(100);
    expect((await call(`${gw.https}/api/fast`, { method: 'POST', body: small })).status).toBe(200);
    const got = upstream.received.find((r) => r.url === '/api/fast')!;
    expect(got.body).toBe(small);
    expect(got.headers['content-length']).toBe('100');
    // Over the 64 KiB read-whole threshold: piped as it arrives, with the client's length.
    const large = 'y'.repeat(200 * 1024);
    expect((await call(`${gw.https}/api/large`, { method: 'POST', body: large })).status).toBe(200);
    const big = upstream.received.find((r) => r.url === '/api/large')!;
    expect(big.body).toBe(large);
    expect(big.headers['content-length']).toBe(String(large.length));
  });
});
