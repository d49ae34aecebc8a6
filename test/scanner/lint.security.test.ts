/**
 * `rampart lint`: each posture problem is reported (the attack surface it leaves open) and its
 * hardened twin is not.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintConfig, lintInlineSecrets, routeCovers, type ConfigView } from '../../src/scanner/lint/config-lint.js';
import { lintSpec } from '../../src/scanner/lint/openapi-lint.js';
import { runLint } from '../../src/scanner/lint/lint.js';
import { loadSpecFile, parseSpec } from '../../src/scanner/openapi.js';
import { parseConfigText } from '../../src/config/load.js';
import { ROOT, tempDir } from '../helpers/gateway.js';

const ids = (fs: { ruleId: string }[]): string[] => fs.map((f) => f.ruleId);

function view(over: Partial<ConfigView> = {}): ConfigView {
  return {
    listeners: { https: { enabled: true, host: '0.0.0.0' }, http: { enabled: true, host: '0.0.0.0', mode: 'redirect' } },
    admin: { enabled: true, host: '127.0.0.1' },
    upstreams: { app: { url: 'http://127.0.0.1:3000', tls: { verify: true } } },
    stages: [],
    routes: [{ id: 'app', path: '/api/**', stages: [{ type: 'api_key' }, { type: 'rbac' }, { type: 'rate_limit' }, { type: 'waf', mode: 'block' }, { type: 'jwt', algorithms: ['RS256'] }] }],
    ...over,
  };
}

describe('config posture', () => {
  it('a hardened config has no findings', () => {
    expect(lintConfig(view(), 'x.yaml')).toEqual([]);
  });

  it.each([
    ['LINT-admin-exposed', { admin: { enabled: true, host: '0.0.0.0' } }],
    ['LINT-tls-off', { listeners: { https: { enabled: false, host: '0.0.0.0' }, http: { enabled: true, host: '0.0.0.0', mode: 'serve' } } }],
    ['LINT-upstream-tls-verify-off', { upstreams: { app: { url: 'https://10.0.0.5', tls: { verify: false } } } }],
    ['LINT-upstream-plain-http', { upstreams: { app: { url: 'http://10.0.0.5:8080' } } }],
    ['LINT-route-no-auth', { routes: [{ id: 'a', path: '/api/**', stages: [{ type: 'rate_limit' }] }] }],
    ['LINT-route-no-authz', { routes: [{ id: 'a', path: '/api/**', stages: [{ type: 'jwt', algorithms: ['EdDSA'] }, { type: 'rate_limit' }] }] }],
    ['LINT-route-no-rate-limit', { routes: [{ id: 'login', path: '/login', stages: [{ type: 'api_key' }, { type: 'rbac' }] }] }],
    ['LINT-cors-wildcard', { stages: [{ type: 'cors', origins: ['*'] }] }],
    ['LINT-jwt-weak-algorithms', { routes: [{ id: 'a', path: '/a', stages: [{ type: 'jwt', algorithms: ['HS256', 'none'] }, { type: 'rbac' }, { type: 'rate_limit' }] }] }],
    ['LINT-injection-detect-only', { routes: [{ id: 'a', path: '/a', stages: [{ type: 'api_key' }, { type: 'rbac' }, { type: 'rate_limit' }, { type: 'waf', mode: 'monitor' }] }] }],
  ] as [string, Partial<ConfigView>][])('reports %s', (rule, over) => {
    expect(ids(lintConfig(view(over), 'x.yaml'))).toContain(rule);
  });

  it('rates a missing rate limit on an authentication route higher', () => {
    const f = lintConfig(view({ routes: [{ id: 'login', path: '/auth/login', stages: [{ type: 'api_key' }, { type: 'rbac' }] }] }), 'x.yaml');
    expect(f.find((x) => x.ruleId === 'LINT-route-no-rate-limit')?.severity).toBe('high');
  });

  it('flags literal secrets but not ${env:…} or ${file:…} references, without printing the value', () => {
    const bad = lintInlineSecrets('routes:\n  - stages:\n      - type: jwt\n        secret: hunter2-very-secret\n', 'x.yaml');
    expect(ids(bad)).toEqual(['LINT-inline-secret']);
    expect(JSON.stringify(bad)).not.toContain('hunter2');
    expect(lintInlineSecrets('a:\n  secret: ${env:JWT_SECRET}\n  clientSecret: ${file:/run/secrets/x}\n', 'x.yaml')).toEqual([]);
  });

  it('works on a real loaded config (cors only, the stages registered today)', () => {
    const { config } = parseConfigText(`
admin: { host: 0.0.0.0 }
upstreams: { app: { url: 'http://10.1.2.3:80' } }
routes:
  - { id: app, path: /app/**, upstream: app, stages: [{ type: cors, origins: ['*'] }] }
`);
    expect(ids(lintConfig(config, 'x.yaml')).sort()).toEqual(['LINT-admin-exposed', 'LINT-cors-wildcard', 'LINT-route-no-auth', 'LINT-route-no-rate-limit', 'LINT-upstream-plain-http']);
  });

  it('matches route patterns against spec paths', () => {
    expect(routeCovers('/pets/**', '/pets')).toBe(true);
    expect(routeCovers('/pets/**', '/pets/{id}/photo')).toBe(true);
    expect(routeCovers('/pets/{id}', '/pets/{petId}')).toBe(true);
    expect(routeCovers('/pets/**', '/owners')).toBe(false);
  });
});

describe('OpenAPI posture', () => {
  it('the notes fixture spec (bounded, authenticated) is clean', () => {
    expect(lintSpec(loadSpecFile(join(ROOT, 'test/fixtures/scanner/notes.openapi.yaml')), 'notes.yaml')).toEqual([]);
  });

  it('reports missing schemes, public operations, plain HTTP, weak schemes, unbounded and open inputs', () => {
    const spec = parseSpec(`
openapi: 3.0.3
info: { title: t, version: '1' }
servers: [{ url: 'http://api.example.com' }]
components: { securitySchemes: { key: { type: apiKey, in: query, name: key } } }
paths:
  /items:
    get:
      parameters: [{ name: limit, in: query, schema: { type: integer } }, { name: q, in: query, schema: { type: string } }]
      responses: { '200': { description: ok } }
    post:
      requestBody: { content: { application/json: { schema: { type: object, properties: { tags: { type: array, items: { type: string, maxLength: 9 } } } } } } }
      responses: { '201': { description: ok } }
`);
    expect(ids(lintSpec(spec, 's.yaml')).sort()).toEqual([
      'LINT-openapi-open-body', 'LINT-openapi-plain-http-server', 'LINT-openapi-unauthenticated-operation', 'LINT-openapi-unbounded-input', 'LINT-openapi-unbounded-input', 'LINT-openapi-weak-scheme',
    ]);
    expect(ids(lintSpec(parseSpec('openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths: {}\n'), 's.yaml'))).toEqual(['LINT-openapi-no-security-schemes']);
  });
});

describe('runLint', () => {
  it('lints the quick-start config: no authentication and no rate limit yet, admin on loopback', () => {
    const report = runLint({ file: join(ROOT, 'rampart.yaml') });
    expect(ids(report.findings)).toContain('LINT-route-no-auth');
    expect(ids(report.findings)).not.toContain('LINT-admin-exposed');
    expect(report.score).toBeLessThan(100);
  });

  it('reports spec operations that no route covers', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'api.yaml'), `openapi: 3.0.3
info: { title: t, version: '1' }
components: { securitySchemes: { b: { type: http, scheme: bearer } } }
security: [{ b: [] }]
paths:
  /pets: { get: { responses: { '200': { description: ok } } } }
  /owners: { get: { responses: { '200': { description: ok } } } }
`);
    writeFileSync(join(dir, 'rampart.yaml'), 'upstreams: { a: { url: builtin:pets } }\nroutes: [{ id: p, path: /pets/**, upstream: a }]\n');
    const report = runLint({ file: join(dir, 'rampart.yaml'), specs: [join(dir, 'api.yaml')] });
    const uncovered = report.findings.find((f) => f.ruleId === 'LINT-openapi-uncovered-operation');
    expect(uncovered?.description).toContain('GET /owners');
    expect(uncovered?.description).not.toContain('/pets');
  });
});
