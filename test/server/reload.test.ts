import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, TEST_LISTENERS, call, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

let upstream: TestUpstream;
let gw: TestGateway;

const config = (routes: string): string => `${TEST_LISTENERS}
upstreams: { up: { url: ${upstream.url} } }
routes:
${routes}
`;

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(config('  - { id: a, path: /a/**, upstream: up }'), { watch: true });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

/** Replaces the config the way deploy tools do: write a temp file, rename over. */
function replaceConfig(text: string): void {
  const tmp = join(gw.dir, '.rampart.yaml.tmp');
  writeFileSync(tmp, text);
  renameSync(tmp, gw.configFile);
}

describe('live config reload', () => {
  it('applies a change without dropping requests in flight', async () => {
    let stop = false;
    const statuses: number[] = [];
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) statuses.push((await call(`${gw.https}/a/x`)).status);
    });
    expect((await call(`${gw.https}/b/x`)).status).toBe(404);
    replaceConfig(config('  - { id: a, path: /a/**, upstream: up }\n  - { id: b, path: /b/**, upstream: up }'));
    await expect.poll(async () => (await call(`${gw.https}/b/x`)).status, { timeout: 10_000, interval: 100 }).toBe(200);
    stop = true;
    await Promise.all(load);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it('refuses an invalid new file and keeps serving the old config', async () => {
    const before = gw.gateway.config;
    replaceConfig(config('  - { id: a, path: /a/**, upstream: nowhere }'));
    const result = await gw.gateway.reload();
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.problems).toContain('routes[0].upstream: unknown upstream "nowhere"');
    expect(gw.gateway.config).toBe(before);
    expect((await call(`${gw.https}/a/x`)).status).toBe(200);
  });
});
