/**
 * The `scan` and `lint` commands: flags, exit codes (0 clean, 1 findings, 2 bad usage), reports on
 * disk; and the demo pets API scanned bare and through a real gateway, where the gateway closes
 * the findings its current stages can close.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/command.js';
import { startNotesApi, type NotesApi } from '../fixtures/scanner/notes-api.js';
import { startPetsApi, type RunningDemo } from '../../src/demo/pets.js';
import { ROOT, startGateway, tempDir, TEST_LISTENERS, type TestGateway } from '../helpers/gateway.js';
import type { Report } from '../../src/scanner/types.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), env: process.env };
  const code = await main(args, io);
  return { code, out, err };
}

const NOTES_SPEC = join(ROOT, 'test/fixtures/scanner/notes.openapi.yaml');
const PETS_SPEC = join(ROOT, 'test/fixtures/scanner/pets.openapi.yaml');

describe('rampart scan (CLI)', () => {
  let vulnerable: NotesApi;
  let fixed: NotesApi;
  beforeAll(async () => {
    [vulnerable, fixed] = await Promise.all([startNotesApi({ vulnerable: true }), startNotesApi({ vulnerable: false })]);
  });
  afterAll(async () => {
    await vulnerable.close();
    await fixed.close();
  });
  const args = (api: NotesApi, out: string): string[] => [
    'scan', '--spec', NOTES_SPEC, '--target', api.url, '--rate', '1000', '--only', 'API1,API8', '--out', out, '--format', 'json,sarif,junit,html',
    '--identity', `alice=Authorization:Bearer ${api.tokens.alice}`, '--identity', `bob=Authorization:Bearer ${api.tokens.bob}`,
  ];

  it('exits 1 with findings at or above --fail-on, and writes every format', async () => {
    const out = tempDir();
    const res = await cli(args(vulnerable, out));
    expect(res.code).toBe(1);
    expect(res.out).toContain('[high] API1 GET /notes/{id}');
    expect(res.err).toMatch(/\[1\/3\] discovering objects/);
    for (const f of ['rampart-scan.json', 'rampart-scan.sarif', 'rampart-scan.junit.xml', 'rampart-scan.html']) expect(existsSync(join(out, f))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'rampart-scan.json'), 'utf8')) as Report;
    expect(report.schemaVersion).toBe(1);
    expect(readFileSync(join(out, 'rampart-scan.json'), 'utf8')).not.toContain(vulnerable.tokens.alice);
  });

  it('exits 0 on the fixed build, and 1 there only when --fail-on info', async () => {
    expect((await cli(args(fixed, tempDir()))).code).toBe(0);
    expect((await cli([...args(fixed, tempDir()), '--fail-on', 'info'])).code).toBe(1);
  });

  it.each([
    [['scan'], /--spec FILE is required/],
    [['scan', '--spec', NOTES_SPEC], /--target URL is required/],
    [['scan', '--spec', NOTES_SPEC, '--target', 'ftp://x'], /http\(s\) URL/],
    [['scan', '--spec', NOTES_SPEC, '--target', 'http://127.0.0.1:1'], /at least one --identity/],
    [['scan', '--spec', NOTES_SPEC, '--target', 'http://127.0.0.1:1', '--identity', 'alice'], /NAME=HEADER:VALUE/],
    [['scan', '--spec', NOTES_SPEC, '--target', 'http://127.0.0.1:1', '--identity', 'a=X:1', '--rate', '0'], /--rate/],
    [['scan', '--spec', NOTES_SPEC, '--target', 'http://127.0.0.1:1', '--identity', 'a=X:1', '--fail-on', 'severe'], /unknown severity/],
    [['scan', '--spec', NOTES_SPEC, '--target', 'http://127.0.0.1:1', '--identity', 'a=X:1', '--only', 'API11'], /unknown category/],
    [['scan', '--spec', join(ROOT, 'package.json'), '--target', 'http://127.0.0.1:1', '--identity', 'a=X:1'], /not an OpenAPI 3.x document/],
    [['scan', '--spec', '/nonexistent.yaml', '--target', 'http://127.0.0.1:1', '--identity', 'a=X:1'], /cannot read/],
    [['lint', '--format', 'pdf'], /unknown format/],
    [['lint', '/nonexistent.yaml'], /no such file/],
  ])('exits 2 for %j', async (argv, message) => {
    const res = await cli(argv);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(message);
    expect(res.err).not.toMatch(/\n\s+at /);
  });
});

describe('rampart lint (CLI)', () => {
  it('prints a score, writes reports, and exits 1 on the quick-start config (no auth yet)', async () => {
    const out = tempDir();
    const res = await cli(['lint', join(ROOT, 'rampart.yaml'), '--out', out, '--format', 'json,html']);
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/score \d+\/100/);
    expect(existsSync(join(out, 'rampart-lint.html'))).toBe(true);
  });

  it('exits 0 for a clean OpenAPI document, and 2 for an invalid config', async () => {
    expect((await cli(['lint', NOTES_SPEC, '--out', tempDir()])).code).toBe(0);
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'routes: [{ id: x }]\n');
    const res = await cli(['lint', join(dir, 'bad.yaml'), '--out', dir]);
    expect(res.code).toBe(2);
    expect(res.err).toContain('routes[0]');
  });
});

describe('the demo pets API, bare and behind the gateway', () => {
  let pets: RunningDemo;
  let gw: TestGateway;
  beforeAll(async () => {
    pets = await startPetsApi();
    gw = await startGateway(`${TEST_LISTENERS}
upstreams: { pets: { url: builtin:pets } }
routes:
  - id: pets
    path: /pets/**
    methods: [GET, POST, PUT, PATCH, DELETE]
    upstream: pets
    stages: [{ type: cors, origins: [https://app.example.com] }]
`);
  });
  afterAll(async () => {
    await gw.stop();
    await pets.close();
  });

  const scan = async (target: string): Promise<Report> => {
    const out = tempDir();
    await cli(['scan', '--spec', PETS_SPEC, '--target', target, '--insecure', '--rate', '1000', '--only', 'API4,API8', '--out', out,
      '--identity', 'alice=X-Rampart-Consumer:alice', '--identity', 'bob=X-Rampart-Consumer:bob']);
    return JSON.parse(readFileSync(join(out, 'rampart-scan.json'), 'utf8')) as Report;
  };

  it('the gateway closes the body-size and security-header findings of the bare API', async () => {
    const bare = (await scan(pets.url)).findings.map((f) => f.ruleId);
    const behind = (await scan(gw.https)).findings.map((f) => f.ruleId);
    expect(bare).toEqual(expect.arrayContaining(['API4-oversized-body', 'API8-security-headers']));
    expect(behind).not.toContain('API4-oversized-body');
    expect(behind).not.toContain('API8-security-headers');
    expect(behind).not.toContain('API8-cors');
  }, 60_000);
});
