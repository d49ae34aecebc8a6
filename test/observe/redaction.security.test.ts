/**
 * No secret reaches any log line or the audit log: credentials are sent everywhere a client can put
 * them (headers, cookies, query, path parameters, event data and reasons), then every captured log
 * line and the raw database files are searched for them. The legitimate twin: non-secret values
 * that operators need still appear.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { call, TEST_LISTENERS } from '../helpers/gateway.js';
import { Redactor } from '../../src/observe/redact.js';
import { startObservedGateway } from './helpers.js';

const SECRETS = {
  authorization: 'S3cretAuthz1111',
  cookie: 'S3cretCookie2222',
  apiKeyHeader: 'S3cretApiKey3333',
  queryKey: 'S3cretQueryKey4444',
  queryPassword: 'S3cretPassw0rd5555',
  queryToken: 'S3cretToken6666',
  pathToken: 'S3cretPathTok7777',
  configured: 'S3cretSsn8888',
  eventData: 'S3cretEventData9999',
  eventReason: 'S3cretReasonAAAA',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTM2NyZXRKd3QifQ.S3cretJwtSigBBBB',
};

describe('secrets never reach logs or the audit log', () => {
  let gw: Awaited<ReturnType<typeof startObservedGateway>>;

  beforeAll(async () => {
    gw = await startObservedGateway(`${TEST_LISTENERS}
log:
  queryValues: [page, token]
  redact: [ssn]
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - { id: pets, path: "/pets/**", upstream: pets }
  - id: reset
    path: "/reset/{token}"
    upstream: pets
    stages: [{ type: cors, origins: ["https://app.example.com"] }]
  - id: cors
    path: /cors/**
    upstream: pets
    stages: [{ type: cors, origins: ["https://app.example.com"] }]
`);
    const headers = {
      authorization: `Bearer ${SECRETS.authorization}`,
      cookie: `session=${SECRETS.cookie}; theme=dark`,
      'x-api-key': SECRETS.apiKeyHeader,
    };
    const query = `page=2&api_key=${SECRETS.queryKey}&password=${SECRETS.queryPassword}&token=${SECRETS.queryToken}&ssn=${SECRETS.configured}&jwt=${SECRETS.jwt}`;
    expect((await call(`${gw.https}/pets?${query}`, { headers })).status).toBe(200);
    await call(`${gw.https}/reset/${SECRETS.pathToken}?${query}`, { headers });
    expect((await call(`${gw.https}/reset/${SECRETS.pathToken}`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    // A denial: produces a security event with the request's facts.
    expect((await call(`${gw.https}/cors/x?${query}`, { headers: { ...headers, origin: 'https://evil.example' } })).status).toBe(403);
    gw.gateway.services.emit({
      type: 'auth.failure',
      severity: 'low',
      source: 'test',
      time: Date.now(),
      reason: `presented Bearer ${SECRETS.eventReason} and ${SECRETS.jwt}`,
      data: { password: SECRETS.eventData, nested: { apiKey: SECRETS.eventData, ssn: SECRETS.configured }, keyPrefix: 'rk_demo' },
    });
    await gw.gateway.observer.flush();
    await gw.stop();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('no log line contains any secret', () => {
    const text = gw.lines().join('\n');
    expect(text).toContain('"msg":"request"');
    for (const [where, secret] of Object.entries(SECRETS)) expect(text.includes(secret), `${where} leaked into the logs`).toBe(false);
  });

  it('no byte of the audit database contains any secret', () => {
    const dir = join(gw.dir, '.rampart');
    const bytes = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    expect(bytes).toContain('auth.failure');
    for (const [where, secret] of Object.entries(SECRETS)) expect(bytes.includes(secret), `${where} leaked into the audit log`).toBe(false);
  });

  it('still logs what operators need: allow-listed query values, parameter names, paths, non-secret data', () => {
    const access = gw.lines().map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'request');
    const pets = access.find((l) => l['route'] === 'pets')!;
    expect(pets['path']).toBe('/pets');
    expect(pets['query']).toBe('page=2&api_key=[redacted]&password=[redacted]&token=[redacted]&ssn=[redacted]&jwt=[redacted]');
    expect(access.find((l) => l['route'] === 'reset')!['path']).toBe('/reset/[redacted]');
    const event = gw.lines().find((l) => l.includes('"type":"auth.failure"'))!;
    expect(event).toContain('rk_demo');
    expect(event).toContain('presented [redacted]');
  });
});

describe('Redactor', () => {
  const r = new Redactor({ redact: ['customerRef'], queryValues: ['q', 'apikey'] });

  it('keeps allow-listed query values but never those of sensitive names', () => {
    expect(r.query('q=shoes&apikey=abc&x=1')).toBe('q=shoes&apikey=[redacted]&x=[redacted]');
  });

  it('matches sensitive names in any case and encoding', () => {
    expect(r.query('Api%5FKey=abc&ACCESS_TOKEN=x&CustomerRef=7')).toBe('Api_5FKey=[redacted]&ACCESS_TOKEN=[redacted]&CustomerRef=[redacted]');
  });

  it('bounds data depth, width and string length', () => {
    const deep = { a: { b: { c: { d: { e: 1 } } } } };
    expect(r.data(deep)).toEqual({ a: { b: { c: { d: '[truncated]' } } } });
    expect((r.data('x'.repeat(5000)) as string).length).toBeLessThan(600);
    expect(Object.keys(r.data(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]))) as object)).toHaveLength(50);
  });

  it('removes inline credentials from free text but keeps the rest', () => {
    expect(r.text('header was Basic dXNlcjpwYXNz for user bob')).toBe('header was [redacted] for user bob');
  });
});
