import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, exportJWK } from 'jose';
import type { OAuthServer } from '../../src/oauth/server.js';
import { runCli, startGateway, tempDir, TEST_LISTENERS, type TestGateway } from '../helpers/gateway.js';

const TOKEN = randomBytes(24).toString('hex');
let gw: TestGateway;
let oauth: OAuthServer;
let env: NodeJS.ProcessEnv;
let url: string;

beforeAll(async () => {
  const dir = tempDir();
  // RAMPART_ADMIN_TOKEN in the gateway's environment registers that admin token (the contract).
  process.env.RAMPART_ADMIN_TOKEN = TOKEN;
  try {
    gw = await startGateway(`${TEST_LISTENERS}
store: sqlite:${join(dir, 'rampart.db')}
oauth: { issuer: "https://auth.test" }
`, { dir });
  } finally {
    delete process.env.RAMPART_ADMIN_TOKEN;
  }
  oauth = gw.gateway.services.oauth!;
  url = gw.admin;
  env = { RAMPART_ADMIN_TOKEN: TOKEN };
});
afterAll(async () => gw?.stop());

// Each case spawns real CLI processes (tsx): generous time on a loaded machine.
describe('rampart clients', { timeout: 120_000 }, () => {
  it('creates a client (secret shown once), lists it, and revokes it', async () => {
    const created = await runCli(['clients', 'create', '--name', 'billing', '--scopes', 'pets:read,pets:write', '--json', '--admin-url', url], { env });
    expect(created.code).toBe(0);
    const { client_id, client_secret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    expect(client_id).toMatch(/^rc_/);
    expect(client_secret).toMatch(/^rcs_/);

    const list = await runCli(['clients', 'list', '--json', '--admin-url', url], { env });
    expect(list.code).toBe(0);
    const clients = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    expect(clients).toContainEqual(expect.objectContaining({ client_id, name: 'billing', status: 'active', scopes: ['pets:read', 'pets:write'] }));
    expect(list.stdout).not.toContain(client_secret);

    const revoked = await runCli(['clients', 'revoke', client_id, '--admin-url', url], { env });
    expect(revoked.code).toBe(0);
    expect((await oauth.store.getClient(client_id))?.status).toBe('revoked');
    expect((await runCli(['clients', 'revoke', client_id, '--admin-url', url], { env })).code).toBe(2); // already revoked: bad input, like every admin CLI command
  });

  it('registers a private_key_jwt client from a JWKS file (no secret)', async () => {
    const file = join(tempDir(), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [await exportJWK((await generateKeyPair('ES256')).publicKey)] }));
    const created = await runCli(['clients', 'create', '--name', 'signer', '--scopes', 'pets:read', '--jwks', file, '--json', '--admin-url', url], { env });
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).not.toHaveProperty('client_secret');
  });

  it('exits 2 on bad usage or input, 1 without a valid admin token', async () => {
    expect((await runCli(['clients', 'create', '--scopes', 'a', '--admin-url', url], { env })).code).toBe(2);
    expect((await runCli(['clients', 'frobnicate'], { env })).code).toBe(2);
    const bad = await runCli(['clients', 'create', '--name', 'x', '--scopes', 'bad"scope', '--admin-url', url], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid scope');
    const denied = await runCli(['clients', 'list', '--admin-url', url], { env: { RAMPART_ADMIN_TOKEN: 'wrong' } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).not.toContain('    at ');
  });
});
