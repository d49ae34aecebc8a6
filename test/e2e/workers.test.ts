import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, spawnGateway, tempDir, TEST_LISTENERS } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: Awaited<ReturnType<typeof spawnGateway>>;

beforeAll(async () => {
  upstream = await startUpstream();
  const dir = tempDir();
  const file = join(dir, 'rampart.yaml');
  writeFileSync(file, `${TEST_LISTENERS.replace('https: { port: 0, host: 127.0.0.1 }', 'https: { enabled: false }').replace('http: { port: 0, host: 127.0.0.1 }', 'http: { port: 0, host: 127.0.0.1, mode: serve }')}
upstreams: { up: { url: ${upstream.url} } }
routes: [{ id: api, path: /api/**, upstream: up }]
`);
  gw = await spawnGateway(file, { cwd: dir, args: ['--workers', '2'] });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

describe('rampart start --workers', () => {
  it('serves one port from several processes and stops cleanly', async () => {
    const base = `http://127.0.0.1:${gw.ports.http}`;
    await expect.poll(() => gw.logs().split('rampart gateway started').length - 1, { timeout: 60_000 }).toBe(2);
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => call(`${base}/api/${i}`).then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    await expect.poll(() => new Set([...gw.logs().matchAll(/"pid":(\d+),[^\n]*"msg":"request"/g)].map((m) => m[1])).size, { timeout: 5000 }).toBe(2);
    expect(await gw.stop()).toBe(0);
  });
});
