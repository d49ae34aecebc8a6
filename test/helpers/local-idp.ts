/**
 * A small identity provider for tests (Keycloak/Auth0 style): a JWKS endpoint with key rotation,
 * token signing, and an RFC 7662 introspection endpoint for opaque tokens. Listens on port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

async function makeKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, publicPem: await exportSPKI(publicKey) };
}

export interface LocalIdp {
  readonly url: string;
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly introspectionUrl: string;
  /** How many times the JWKS was fetched. */
  readonly jwksFetches: number;
  readonly introspectionCalls: number;
  /** Current RSA key (the one `sign` uses for RS256). */
  readonly rsa: SigningKey;
  readonly ec: SigningKey;
  /** Signs a token; defaults: RS256 with the current RSA key, iss, aud `pets-api`, exp in 5 minutes. */
  sign(claims?: JWTPayload, options?: { alg?: 'RS256' | 'ES256'; kid?: string; header?: Record<string, unknown>; key?: SigningKey }): Promise<string>;
  /** Replaces the RSA key with a new one (new kid); the old key disappears from the JWKS. */
  rotate(): Promise<SigningKey>;
  /** Registers an opaque token for introspection; returns the token. */
  issueOpaque(claims: Record<string, unknown>): string;
  revokeOpaque(token: string): void;
  close(): Promise<void>;
}

export async function startLocalIdp(options: { audience?: string; introspectionClient?: { id: string; secret: string } } = {}): Promise<LocalIdp> {
  const audience = options.audience ?? 'pets-api';
  const client = options.introspectionClient ?? { id: 'gateway', secret: 'gateway-secret' };
  let generation = 1;
  let rsa = await makeKey('rsa-1', 'RS256');
  const ec = await makeKey('ec-1', 'ES256');
  const opaque = new Map<string, Record<string, unknown>>();
  let jwksFetches = 0;
  let introspectionCalls = 0;

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method === 'GET' && req.url === '/jwks') {
      jwksFetches++;
      return send(200, { keys: [rsa.publicJwk, ec.publicJwk] });
    }
    if (req.method === 'POST' && req.url === '/introspect') {
      introspectionCalls++;
      const expected = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return send(401, { error: 'invalid_client' });
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('token') ?? '';
        const claims = opaque.get(token);
        send(200, claims === undefined ? { active: false } : { active: true, ...claims });
      });
      return;
    }
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${url}/realms/test`;

  return {
    url,
    issuer,
    jwksUrl: `${url}/jwks`,
    introspectionUrl: `${url}/introspect`,
    get jwksFetches() {
      return jwksFetches;
    },
    get introspectionCalls() {
      return introspectionCalls;
    },
    get rsa() {
      return rsa;
    },
    ec,
    async sign(claims = {}, o = {}) {
      const key = o.key ?? (o.alg === 'ES256' ? ec : rsa);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: audience, sub: 'alice', iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: o.kid ?? key.kid, typ: 'JWT', ...o.header })
        .sign(key.privateKey);
    },
    async rotate() {
      generation++;
      rsa = await makeKey(`rsa-${generation}`, 'RS256');
      return rsa;
    },
    issueOpaque(claims) {
      const token = randomBytes(24).toString('base64url');
      opaque.set(token, claims);
      return token;
    },
    revokeOpaque(token) {
      opaque.delete(token);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
