/**
 * End to end with real processes: the CLI bootstraps an admin token, creates a consumer and a key
 * through a running gateway's admin API; the key works on the demo route; revocation is refused
 * at once; rotation with a 2 s grace lets both keys work, then only the new one. Afterwards no
 * plaintext key or token appears in the database files, the logs or any CLI output.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, runCli, spawnGateway, tempDir } from '../helpers/gateway.js';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/command.js';

const CONFIG = `
listeners:
  https: { port: 0, host: 127.0.0.1 }
  http: { port: 0, host: 127.0.0.1 }
admin: { port: 0 }
store: sqlite:.rampart/rampart.db
keys: { revocationPollMs: 200 }
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - { type: api_key, header: X-API-Key }
      - { type: authorize, anyAuthenticated: true }   # deny by default otherwise
`;

type Spawned = Awaited<ReturnType<typeof spawnGateway>>;

describe('keys end to end (real processes)', { timeout: 120_000 }, () => {
  const dir = tempDir('rampart-e2e-keys-');
  const configFile = join(dir, 'rampart.yaml');
  const secrets: string[] = [];
  const outputs: string[] = [];
  let gw: Spawned;
  let second: Spawned;
  let adminToken: string;
  let env: NodeJS.ProcessEnv;

  // The CLI's own entry point (`main`), in this process to keep the test fast on a busy machine;
  // it talks HTTP to the gateway processes exactly as the `rampart` binary does.
  const cli = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> => {
    let stdout = '';
    let stderr = '';
    const io: CliIO = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env: { ...env, ...extraEnv } };
    const code = await main([...args, '--admin-url', `http://127.0.0.1:${gw.ports.admin}`], io);
    outputs.push(stderr);
    return { code, stdout, stderr };
  };
  const pets = (g: Spawned, key: string): Promise<number> => call(`https://127.0.0.1:${g.ports.https}/pets`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);

  beforeAll(async () => {
    writeFileSync(configFile, CONFIG);
    const boot = await runCli(['admin', 'bootstrap', '--config', configFile, '--json'], { env: { RAMPART_ADMIN_TOKEN: '' } });
    expect(boot.code, boot.stderr).toBe(0);
    adminToken = (JSON.parse(boot.stdout) as { token: string }).token;
    secrets.push(adminToken);
    const again = await runCli(['admin', 'bootstrap', '--config', configFile]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');
    env = { RAMPART_ADMIN_TOKEN: adminToken };
    const clean = { RAMPART_ADMIN_TOKEN: '' };
    gw = await spawnGateway(configFile, { env: clean });
    second = await spawnGateway(configFile, { env: clean });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gw?.stop(), second?.stop()]);
  });

  it('creates a consumer and a key with the CLI; the key works on the demo route', async () => {
    const add = await cli(['consumers', 'add', 'billing', '--scopes', 'pets:read,pets:write', '--roles', 'reader', '--json']);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ name: 'billing', status: 'active' });
    const dup = await cli(['consumers', 'add', 'billing']);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('RAMPART_ADMIN_CONFLICT');

    const created = await cli(['keys', 'create', '--consumer', 'billing', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; prefix: string; key: string };
    secrets.push(key.key);
    expect(key.key).toMatch(/^rk_live_[0-9A-Za-z]{28}_[0-9A-Za-z]{6}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);
    expect(await pets(gw, key.key)).toBe(200);
    expect(await pets(second, key.key)).toBe(200);

    const listed = await cli(['keys', 'list', '--consumer', 'billing', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: key.id, prefix: key.prefix, consumer: 'billing', status: 'active' })]);
    expect(listed.stdout).not.toContain(key.key);
  });

  it('refuses a revoked key at once here, and within a second on another process', async () => {
    const created = JSON.parse((await cli(['keys', 'create', '--consumer', 'billing', '--json'])).stdout) as { id: string; key: string };
    secrets.push(created.key);
    expect(await pets(gw, created.key)).toBe(200);
    expect(await pets(second, created.key)).toBe(200);
    const revoked = await cli(['keys', 'revoke', created.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const at = Date.now();
    expect(await pets(gw, created.key)).toBe(401);
    let status = await pets(second, created.key);
    while (status !== 401 && Date.now() - at < 3000) status = await pets(second, created.key);
    expect(status).toBe(401);
    expect(Date.now() - at).toBeLessThan(1000);
  });

  it('suspending a consumer stops its keys at once; resuming restores them', async () => {
    const created = JSON.parse((await cli(['keys', 'create', '--consumer', 'billing', '--json'])).stdout) as { key: string };
    secrets.push(created.key);
    expect(await pets(gw, created.key)).toBe(200);
    expect((await cli(['consumers', 'suspend', 'billing'])).code).toBe(0);
    expect(await pets(gw, created.key)).toBe(401);
    expect((await cli(['consumers', 'resume', 'billing'])).code).toBe(0);
    expect(await pets(gw, created.key)).toBe(200);
  });

  it('rotate --grace 2s: both keys work, then only the new one', async () => {
    const old = JSON.parse((await cli(['keys', 'create', '--consumer', 'billing', '--json'])).stdout) as { id: string; key: string };
    secrets.push(old.key);
    const rotated = await cli(['keys', 'rotate', old.id, '--grace', '2s', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const at = Date.now();
    const next = JSON.parse(rotated.stdout) as { key: string };
    secrets.push(next.key);
    expect(await pets(gw, old.key)).toBe(200);
    expect(await pets(gw, next.key)).toBe(200);
    // The one wait the contract asks for: the grace period is real time in a real process.
    await new Promise((r) => setTimeout(r, Math.max(0, at + 2100 - Date.now())));
    expect(await pets(gw, old.key)).toBe(401);
    expect(await pets(second, old.key)).toBe(401);
    expect(await pets(gw, next.key)).toBe(200);
  });

  it('bad CLI input exits 2 with a clear message; a refused admin token is a failed verification (1)', async () => {
    const r = await cli(['keys', 'create', '--consumer', 'nobody']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No consumer');
    const bad = await cli(['consumers', 'list'], { RAMPART_ADMIN_TOKEN: 'rk_admin_wrong' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('RAMPART_ADMIN_UNAUTHORIZED');
    const grace = await cli(['keys', 'rotate', 'x', '--grace', 'forever']);
    expect(grace.code).toBe(2);
  });

  it('leaves no plaintext key or token in the database files, logs or errors', async () => {
    await Promise.all([gw.stop(), second.stop()]);
    const haystacks = [gw.logs(), second.logs(), ...outputs];
    const stateDir = join(dir, '.rampart');
    for (const f of readdirSync(stateDir)) if (f.startsWith('rampart.db')) haystacks.push(readFileSync(join(stateDir, f)).toString('latin1'));
    expect(haystacks.length).toBeGreaterThan(4);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) {
      const body = secret.split('_')[2]!;
      for (const h of haystacks) {
        expect(h.includes(secret)).toBe(false);
        expect(h.includes(body)).toBe(false);
      }
    }
  });
});
