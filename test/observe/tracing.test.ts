/** W3C traceparent reaches the upstream: continued when valid, replaced when missing or malformed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { call, TEST_LISTENERS } from '../helpers/gateway.js';
import { continueTrace } from '../../src/observe/tracing.js';
import { startObservedGateway } from './helpers.js';

const VALID = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

describe('trace context', () => {
  let echo: Server;
  let gw: Awaited<ReturnType<typeof startObservedGateway>>;

  beforeAll(async () => {
    echo = createServer((req, res) => res.end(String(req.headers.traceparent)));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    gw = await startObservedGateway(`${TEST_LISTENERS}
upstreams:
  echo: { url: "http://127.0.0.1:${(echo.address() as AddressInfo).port}" }
routes:
  - { id: echo, path: "/**", upstream: echo }
`);
  });
  afterAll(async () => {
    await gw.stop();
    echo.close();
  });

  it('continues a valid incoming trace with the gateway as the new parent span', async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const seen = (await call(`${gw.https}/a`, { headers: { traceparent: incoming } })).text;
    expect(seen).toMatch(VALID);
    expect(seen.slice(0, 36)).toBe(incoming.slice(0, 36));
    expect(seen.slice(36, 52)).not.toBe('00f067aa0ba902b7');
    const line = gw.lines().find((l) => l.includes('"msg":"request"') && l.includes('4bf92f3577b34da6a3ce929d0e0e4736'));
    expect(line).toBeDefined();
  });

  it('starts a new trace when none or a malformed one arrives', async () => {
    const none = (await call(`${gw.https}/b`)).text;
    expect(none).toMatch(VALID);
    for (const bad of ['garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', `00-${'a'.repeat(600)}`]) {
      const seen = (await call(`${gw.https}/c`, { headers: { traceparent: bad } })).text;
      expect(seen).toMatch(VALID);
      expect(seen).not.toContain('00000000000000000000000000000000');
    }
  });

  it('reads future versions as version 00', () => {
    expect(continueTrace('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra').slice(0, 35)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
