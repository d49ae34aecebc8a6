import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { decodeProtectedHeader } from 'jose';
import { OAuthServer } from '../../src/oauth/server.js';
import { oauthConfigSchema } from '../../src/oauth/config.js';
import { backends } from '../conformance/backends.js';
import { SecretBox, SecretVault } from '../../src/keys/secret-box.js';
import { RequestContext } from '../../src/core/context.js';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';

const DAY = 86_400_000;
const servers: OAuthServer[] = [];
const stores = backends('oauthrot');
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const b of stores) await b.cleanup();
});

/** Drives the token endpoint without a listener: a real RequestContext over an in-memory socket. */
async function issue(server: OAuthServer, id: string, secret: string): Promise<string> {
  const req = new IncomingMessage(new Socket());
  req.method = 'POST';
  req.headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` };
  const ctx = new RequestContext({ id: 'r1', req, res: new ServerResponse(req), secure: true, peerIp: '127.0.0.1', host: 'h', rawPath: '/oauth/token', query: '', maxBodyBytes: 1024 });
  const body = 'grant_type=client_credentials';
  req.push(body);
  req.push(null);
  req.headers['content-length'] = String(body.length);
  expect(await server.handle(ctx)).toBe(true);
  expect(ctx.reply?.status).toBe(200);
  return (JSON.parse(String(ctx.reply!.body)) as { access_token: string }).access_token;
}

describe.each(stores)('signing-key rotation with overlap on $name (injected clock)', (backend) => {
  it('publishes the next key ahead, switches at the period boundary, keeps verifying older tokens', async () => {
    let now = 100 * 7 * DAY + DAY;
    const config = oauthConfigSchema.parse({ issuer: 'https://auth.test', rotationSeconds: 7 * 86_400, tokenTtlSeconds: 3600 });
    const store = await backend.open();
    const secrets = new SecretVault(store, new SecretBox({ id: 'test', key: randomBytes(32) }, []));
    const server = await OAuthServer.start(config, { store, secrets, logger: pino({ level: 'silent' }), now: () => now });
    servers.push(server);
    const client = await server.createClient({ name: 'c', scopes: ['s'] });
    const first = await issue(server, client.client_id, client.client_secret!);
    const firstKid = decodeProtectedHeader(first).kid;
    expect(server.keys.jwks().keys.map((k) => k.kid)).toEqual([firstKid, 'ES256-101']);

    now += 7 * DAY - DAY - 1000; // just before the boundary: token lives 1 hour, into the next period
    const late = await issue(server, client.client_id, client.client_secret!);
    expect(decodeProtectedHeader(late).kid).toBe(firstKid);
    now += 2000; // next period
    const second = await issue(server, client.client_id, client.client_secret!);
    expect(decodeProtectedHeader(second).kid).toBe('ES256-101');
    expect(server.keys.jwks().keys.map((k) => k.kid)).toEqual([firstKid, 'ES256-101', 'ES256-102']);
    expect(await server.verify(late)).toBeDefined();
    expect(await server.verify(second)).toBeDefined();

    now += 7 * DAY; // two periods on: the first key is withdrawn (its tokens expired long ago)
    await server.keys.sync();
    expect(server.keys.jwks().keys.map((k) => k.kid)).toEqual(['ES256-101', 'ES256-102', 'ES256-103']);
  });
});
