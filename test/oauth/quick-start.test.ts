import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, ROOT, startGateway, tempDir, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;

beforeAll(async () => {
  const dir = tempDir();
  // The repository's rampart.yaml, on ephemeral ports and a temporary store.
  const yaml = readFileSync(join(ROOT, 'rampart.yaml'), 'utf8')
    .replace(/port: 8443/, 'port: 0\n    host: 127.0.0.1')
    .replace(/port: 8080/, 'port: 0\n    host: 127.0.0.1')
    .replace(/port: 9901/, 'port: 0')
    .replace(/store: sqlite:\S+/, `store: sqlite:${join(dir, 'rampart.db')}`)
    .replace(/spec: (\S+)/g, (_m, spec: string) => `spec: ${join(ROOT, spec)}`);
  gw = await startGateway(yaml, { dir });
});
afterAll(async () => gw?.stop());

describe('quick start: client_credentials end to end', () => {
  it('gets a token from /oauth/token and calls /pets with it; refuses it once revoked', async () => {
    const client = await gw.gateway.services.oauth!.createClient({ name: 'billing', scopes: ['pets:read'] });
    const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret!}`).toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
    const meta = (await call(`${gw.https}/.well-known/oauth-authorization-server`)).json();
    expect(meta).toMatchObject({ issuer: 'https://127.0.0.1:8443' });
    const issued = await call(`${gw.https}/oauth/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials&scope=pets:read' });
    expect(issued.status).toBe(200);
    const token = issued.json<{ access_token: string }>().access_token;
    expect((await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const anonymous = await call(`${gw.https}/pets`);
    expect(anonymous.status).toBe(401);
    expect(String(anonymous.headers['www-authenticate'])).toContain('Bearer');
    expect((await call(`${gw.https}/oauth/revoke`, { method: 'POST', headers: form, body: `token=${token}` })).status).toBe(200);
    const revoked = await call(`${gw.https}/pets`, { headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(401);
    expect(revoked.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
