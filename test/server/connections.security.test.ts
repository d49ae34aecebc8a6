import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { startGateway, TEST_LISTENERS, call, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(`${TEST_LISTENERS}
limits: { maxConnectionsPerIp: 3 }
upstreams: { up: { url: ${upstream.url} } }
routes: [{ id: api, path: /api/**, upstream: up }]
`);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

/** Opens a TCP connection; resolves true when the server keeps it open, false when it closes it. */
function hold(port: number): Promise<{ open: boolean; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let settled = false;
    const settle = (open: boolean): void => {
      if (settled) return;
      settled = true;
      resolve({ open, socket });
    };
    socket.on('connect', () => setTimeout(() => settle(!socket.destroyed && socket.readyState === 'open'), 300));
    socket.on('close', () => settle(false));
    socket.on('error', () => settle(false));
  });
}

describe('connection floods', () => {
  it('closes connections past the per-address cap and accepts again once some close', async () => {
    const port = gw.gateway.ports.http!;
    const held = [await hold(port), await hold(port), await hold(port)];
    expect(held.map((h) => h.open)).toEqual([true, true, true]);
    const extra = await hold(port);
    expect(extra.open).toBe(false);
    held[0]!.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const again = await hold(port);
    expect(again.open).toBe(true);
    for (const h of [...held, again]) h.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await call(`${gw.https}/api/ok`)).status).toBe(200);
  });
});
