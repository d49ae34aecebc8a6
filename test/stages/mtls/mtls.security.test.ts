import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startGateway, tempDir, TEST_LISTENERS, type TestGateway } from '../../helpers/gateway.js';
import { makeCa, makeClientCert, thumbprint, type Pem } from '../../helpers/certs.js';
import { startLocalIdp, type LocalIdp } from '../../helpers/local-idp.js';
import { parseConfigText } from '../../../src/config/load.js';

let gw: TestGateway;
let idp: LocalIdp;
let caA: Pem;
let good: Pem;
let sibling: Pem;
let foreign: Pem;
let selfSigned: Pem;
let expired: Pem;
const agents: Agent[] = [];

function agentFor(cert?: Pem): Agent {
  const agent = new Agent({ connect: { rejectUnauthorized: false, ...(cert !== undefined ? { cert: cert.cert, key: cert.key } : {}) } });
  agents.push(agent);
  return agent;
}

async function get(path: string, cert?: Pem, token?: string): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
  const res = await request(`${gw.https}${path}`, { dispatcher: agentFor(cert), headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers };
}

beforeAll(async () => {
  caA = await makeCa('Rampart Test Clients CA');
  const caB = await makeCa('Some Other CA');
  good = await makeClientCert(caA, 'billing', { uri: 'spiffe://prod/billing' });
  sibling = await makeClientCert(caA, 'reports', { uri: 'spiffe://prod/reports' });
  foreign = await makeClientCert(caB, 'billing', { uri: 'spiffe://prod/billing' });
  selfSigned = await makeClientCert(undefined, 'billing');
  expired = await makeClientCert(caA, 'billing', { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
  idp = await startLocalIdp();
  const dir = tempDir();
  writeFileSync(join(dir, 'clients-ca.pem'), caA.cert);
  gw = await startGateway(
    `${TEST_LISTENERS.replace('https: { port: 0, host: 127.0.0.1 }', 'https: { port: 0, host: 127.0.0.1, clientCa: clients-ca.pem }')}
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - id: mtls
    path: /pets/**
    upstream: pets
    stages: [{ type: mtls }, { type: authorize, anyAuthenticated: true }]
  - id: listed
    path: /listed/**
    upstream: pets
    stripPrefix: /listed
    stages: [{ type: mtls, consumerFrom: san.uri, consumers: { "spiffe://prod/reports": { consumer: reports, roles: [reader] } } }, { type: authorize, anyAuthenticated: true }]
  - id: open
    path: /open/**
    upstream: pets
    stripPrefix: /open
  - id: bound
    path: /bound/**
    upstream: pets
    stripPrefix: /bound
    stages:
      - { type: jwt, issuer: "${idp.issuer}", audience: pets-api, algorithms: [RS256], jwksUrl: "${idp.jwksUrl}", certificateBound: true }
      - { type: authorize, anyAuthenticated: true }
`,
    { dir },
  );
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await gw?.stop();
  await idp?.close();
});

describe('mtls stage: attacks and legitimate twins', () => {
  it('accepts a client certificate from the configured CA', async () => {
    expect((await get('/pets', good)).status).toBe(200);
  });

  it('refuses a client certificate from another CA, a self-signed one and an expired one', async () => {
    for (const cert of [foreign, selfSigned, expired]) {
      const res = await get('/pets', cert);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'RAMPART_AUTH_INVALID_CERTIFICATE', detail: 'The client certificate is not accepted.' });
    }
  });

  it('requests but does not require a certificate: other routes still work without one', async () => {
    expect((await get('/open/pets')).status).toBe(200);
    const res = await get('/pets');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'RAMPART_AUTH_REQUIRED' });
  });

  it('maps a SAN URI through the consumers allowlist and refuses unlisted certificates', async () => {
    expect((await get('/listed/pets', sibling)).status).toBe(200);
    expect((await get('/listed/pets', good)).status).toBe(401);
  });

  it('refuses mtls without listeners.https.clientCa at config load', () => {
    const yaml = `upstreams: { u: { url: "http://127.0.0.1:1" } }
routes: [{ id: r, path: /x, upstream: u, stages: [{ type: mtls }] }]`;
    expect(() => parseConfigText(yaml)).toThrow(/clientCa/);
  });
});

describe('certificate-bound access tokens (RFC 8705 cnf.x5t#S256)', () => {
  it('accepts a token bound to the certificate of this connection', async () => {
    const token = await idp.sign({ cnf: { 'x5t#S256': thumbprint(good.cert) } });
    expect((await get('/bound/pets', good, token)).status).toBe(200);
  });

  it('refuses the same token over another certificate, without one, or an unbound token', async () => {
    const token = await idp.sign({ cnf: { 'x5t#S256': thumbprint(good.cert) } });
    expect((await get('/bound/pets', sibling, token)).status).toBe(401);
    expect((await get('/bound/pets', undefined, token)).status).toBe(401);
    expect((await get('/bound/pets', foreign, token)).status).toBe(401);
    expect((await get('/bound/pets', good, await idp.sign())).status).toBe(401);
  });
});
