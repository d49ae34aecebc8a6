/**
 * Ground truth: every documented vulnerability of the notes fixture is found (true positive), and
 * the fixed build of the same API, scanned the same way, yields nothing but the loopback-HTTP note.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startNotesApi, type NotesApi } from '../fixtures/scanner/notes-api.js';
import { runScan } from '../../src/scanner/scan.js';
import { loadSpecFile, parseSpec } from '../../src/scanner/openapi.js';
import { parseIdentity, ScopedClient, ScopeError } from '../../src/scanner/http.js';
import type { Report } from '../../src/scanner/types.js';

const SPEC_FILE = fileURLToPath(new URL('../fixtures/scanner/notes.openapi.yaml', import.meta.url));

async function scan(api: NotesApi, extra: Partial<Parameters<typeof runScan>[0]> = {}): Promise<Report> {
  return runScan({
    spec: loadSpecFile(SPEC_FILE),
    target: api.url,
    rate: 1000,
    identities: [
      parseIdentity(`alice=Authorization:Bearer ${api.tokens.alice}`),
      parseIdentity(`bob=Authorization:Bearer ${api.tokens.bob}`),
      parseIdentity(`admin=Authorization:Bearer ${api.tokens.admin}`),
    ],
    settings: { timingDelayMs: 400, lockoutAttempts: 8 },
    ...extra,
  });
}

/** rule id → location of each documented vulnerability. */
const DOCUMENTED: [string, string][] = [
  ['API1-bola-read', 'GET /notes/{id}'],
  ['API1-bola-write', 'PUT /notes/{id}'],
  ['API1-bola-write', 'DELETE /notes/{id}'],
  ['API2-no-credentials', 'GET /admin/users'],
  ['API2-forged-credentials', 'GET /notes'],
  ['API2-no-lockout', 'POST /login'],
  ['API3-mass-assignment', 'POST /notes'],
  ['API3-sensitive-data', 'GET /me'],
  ['API3-undeclared-property', 'GET /me'],
  ['API4-no-rate-limit', 'GET /notes'],
  ['API4-unbounded-page-size', 'GET /notes'],
  ['API4-oversized-body', 'POST /notes'],
  ['API5-admin-function', 'GET /admin/users'],
  ['API5-undeclared-method', 'PATCH /notes/{id}'],
  ['API6-automatable-flow', 'POST /checkout'],
  ['API7-ssrf', 'POST /previews (body url)'],
  ['API7-ssrf-internal-data', 'POST /previews (body url)'],
  ['API8-security-headers', 'GET /notes'],
  ['API8-cors', 'GET /notes'],
  ['API8-verbose-errors', 'POST /login'],
  ['API8-trace', 'TRACE /'],
  ['API9-debug-endpoint', 'GET /actuator/env'],
  ['API9-old-version', 'GET /v1/notes'],
  ['API9-spec-exposed', 'GET /openapi.json'],
  ['API10-unsafe-consumption', 'POST /imports (body source)'],
  ['INJ-injection', 'GET /search (query q)'],
  ['INJ-injection', 'POST /login (body password)'],
  ['INJ-injection', 'GET /tools/ping (query host)'],
  ['INJ-injection', 'GET /greeting (query name)'],
];

describe('rampart scan on the notes fixture', () => {
  let vulnerable: NotesApi;
  let fixed: NotesApi;
  let bad: Report;
  let good: Report;
  beforeAll(async () => {
    [vulnerable, fixed] = await Promise.all([startNotesApi({ vulnerable: true }), startNotesApi({ vulnerable: false })]);
    bad = await scan(vulnerable);
    good = await scan(fixed);
  }, 60_000);
  afterAll(async () => {
    await vulnerable?.close();
    await fixed?.close();
  });

  it.each(DOCUMENTED)('finds %s at %s on the vulnerable build, and not on the fixed one', (rule, location) => {
    expect(bad.findings.filter((f) => f.ruleId === rule).map((f) => f.location)).toContain(location);
    expect(good.findings.filter((f) => f.ruleId === rule)).toEqual([]);
  });

  it('reports nothing but the loopback-HTTP note on the fixed build', () => {
    expect(good.findings.map((f) => `${f.severity} ${f.ruleId}`)).toEqual(['info API8-transport']);
  });

  it('gives every finding a category, severity, remediation and evidence', () => {
    for (const f of bad.findings) {
      expect(f.category).toMatch(/^(API\d+|INJ)$/);
      expect(f.remediation.length).toBeGreaterThan(20);
      if (f.ruleId !== 'API8-transport') expect(f.evidence.length).toBeGreaterThan(0);
    }
  });

  it('never writes a credential into the report', () => {
    const text = JSON.stringify(bad);
    for (const token of Object.values(vulnerable.tokens)) expect(text).not.toContain(token);
    expect(text).toContain('Bearer [REDACTED]');
  });

  it('--safe sends no PUT, PATCH or DELETE', async () => {
    const api = await startNotesApi({ vulnerable: true });
    try {
      const report = await scan(api, { safe: true, only: ['API1', 'API5'] });
      const methods = new Set(report.findings.flatMap((f) => f.evidence.map((e) => e.request.method)));
      expect([...methods].filter((m) => ['PUT', 'PATCH', 'DELETE'].includes(m))).toEqual([]);
      expect(report.findings.map((f) => f.ruleId)).toContain('API1-bola-read');
    } finally {
      await api.close();
    }
  });
});

describe('hard scope', () => {
  let decoy: Server;
  let decoyHits = 0;
  let api: NotesApi;
  beforeAll(async () => {
    decoy = createServer((req, res) => {
      decoyHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[{"id":1}]}');
    });
    await new Promise<void>((r) => decoy.listen(0, '127.0.0.1', r));
    api = await startNotesApi({ vulnerable: true });
  });
  afterAll(async () => {
    await api.close();
    await new Promise<void>((r) => decoy.close(() => r()));
  });

  it('never contacts servers, links or redirects outside the target origin', async () => {
    const decoyUrl = `http://127.0.0.1:${(decoy.address() as AddressInfo).port}`;
    const text = (await import('node:fs')).readFileSync(SPEC_FILE, 'utf8').replaceAll('http://127.0.0.1:9', decoyUrl);
    const spec = parseSpec(text);
    expect(spec.servers).toContain(decoyUrl);
    await runScan({ spec, target: api.url, rate: 1000, identities: [parseIdentity(`alice=Authorization:Bearer ${api.tokens.alice}`), parseIdentity(`bob=Authorization:Bearer ${api.tokens.bob}`)], only: ['API1', 'API8', 'API9'] });
    expect(decoyHits).toBe(0);
  });

  it('refuses absolute URLs on another origin before sending anything', async () => {
    const client = new ScopedClient({ target: `${api.url}/base`, rate: 1000 });
    expect(() => client.resolve('http://127.0.0.1:1/x')).toThrow(ScopeError);
    // Protocol-relative paths stay under the base, or are refused without one.
    expect(client.resolve('//evil.example/x').origin).toBe(api.url);
    expect(() => new ScopedClient({ target: api.url, rate: 1 }).resolve('//evil.example/x')).toThrow(ScopeError);
    expect(client.resolve('/notes').href).toBe(`${api.url}/base/notes`);
    await expect(client.send({ method: 'GET', path: 'https://example.com/' })).rejects.toThrow(ScopeError);
    expect(client.requests).toBe(0);
    await client.close();
  });
});

describe('rate cap', () => {
  it('spaces requests 1000/rate ms apart, concurrent or not', async () => {
    let clock = 0;
    const waits: number[] = [];
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new ScopedClient({
      target: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      rate: 4,
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await Promise.all([0, 1, 2, 3].map(() => client.send({ method: 'GET', path: '/' })));
    expect(waits).toEqual([250, 500, 750]);
    clock = 5000;
    await client.send({ method: 'GET', path: '/' });
    expect(waits).toHaveLength(3);
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
