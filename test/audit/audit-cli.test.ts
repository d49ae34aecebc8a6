import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ROOT, runCli as runProcess, tempDir } from '../helpers/gateway.js';

/** Real processes are slow to start on a loaded machine: give them room. */
const PROCESS_TIMEOUT = 120_000;

/**
 * Runs the CLI in this process (same `main` as the bin, same exit codes and output), so the many
 * report checks stay quick; the tests marked "(process)" spawn the real command.
 */
async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => (stdout += t), err: (t) => (stderr += t), env: { ...process.env, ...options.env } });
  return { code, stdout, stderr };
}

const FIX = join(ROOT, 'test/fixtures/audit');
const OSV = join(FIX, 'osv');

interface JsonFinding {
  id: string;
  aliases: string[];
  package: string;
  version: string;
  severity: string;
  fixed?: string;
  direct: boolean;
  chain: string[];
  remediation: string;
}
interface JsonReport {
  findings: JsonFinding[];
  ignored: { id: string; reason: string }[];
  warnings: string[];
  packages: number;
  withdrawnSkipped: number;
}

/** The five findings the vulnerable npm tree has, whatever lockfile format describes it. */
const NPM_FINDINGS = [
  ['GHSA-xvch-5gv4-984h', ['CVE-2021-44906'], 'minimist', '0.0.8', 'critical', '0.2.4', false, ['mkdirp@0.5.1', 'minimist@0.0.8']],
  ['GHSA-p6mc-m468-83gw', ['CVE-2020-8203'], 'lodash', '4.17.15', 'high', '4.17.19', true, ['lodash@4.17.15']],
  ['GHSA-35jh-r3h4-6jhm', ['CVE-2021-23337'], 'lodash', '4.17.15', 'high', '4.17.21', true, ['lodash@4.17.15']],
  ['GHSA-29mw-wpgm-hmr9', ['CVE-2020-28500'], 'lodash', '4.17.15', 'medium', '4.17.21', true, ['lodash@4.17.15']],
  ['GHSA-hjrf-2m68-5959', ['CVE-2022-23541'], 'jsonwebtoken', '8.5.1', 'medium', '9.0.0', true, ['jsonwebtoken@8.5.1']],
];

function summarize(report: JsonReport): unknown[] {
  return report.findings.map((f) => [f.id, f.aliases, f.package, f.version, f.severity, f.fixed, f.direct, f.chain]);
}

/** No stack trace: no "    at fn (file:line)" lines and no Node error banner. */
function expectCleanError(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/node:internal|Error: /);
  expect(stderr.trim().split('\n').length).toBe(1);
}

describe('rampart audit (real processes)', () => {
  it('(process) exits 1 with the JSON report on stdout', async () => {
    const r = await runProcess(['audit', join(FIX, 'vulnerable/npm-v3'), '--osv', OSV, '--json']);
    expect(r.code).toBe(1);
    expect(summarize(JSON.parse(r.stdout) as JsonReport)).toEqual(NPM_FINDINGS);
  }, PROCESS_TIMEOUT);

  it('(process) a malformed lockfile: exit 2, one line naming file and position, no stack trace', async () => {
    const dir = tempDir('rampart-bad-');
    writeFileSync(join(dir, 'yarn.lock'), '# yarn lockfile v1\n\nlodash@^4:\n  version\n');
    const r = await runProcess(['audit', dir, '--osv', OSV]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`rampart audit: ${join(dir, 'yarn.lock')}:4:3: expected "key value"\n`);
    expectCleanError(r.stderr);
  }, PROCESS_TIMEOUT);

  it.each(['npm-v1', 'npm-v2', 'npm-v3', 'npm-shrinkwrap', 'yarn-classic', 'yarn-berry', 'pnpm-v5', 'pnpm-v6', 'pnpm-v9'])(
    '%s: exact findings, alias pair once, withdrawn advisory ignored',
    async (dir) => {
      const r = await runCli(['audit', join(FIX, 'vulnerable', dir), '--osv', OSV, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout) as JsonReport;
      expect(summarize(report)).toEqual(NPM_FINDINGS);
      expect(report.withdrawnSkipped).toBe(1);
      expect(r.stdout).not.toContain('GHSA-27h2-hvpr-p74q');
    },
  );

  it('names the upgrade: the install command for a direct dependency, the parent and an override for a transitive one', async () => {
    const npm = JSON.parse((await runCli(['audit', join(FIX, 'vulnerable/npm-v3'), '--osv', OSV, '--json'])).stdout) as JsonReport;
    expect(npm.findings.find((f) => f.id === 'GHSA-p6mc-m468-83gw')!.remediation).toBe('npm install lodash@4.17.19');
    expect(npm.findings[0]!.remediation).toBe(
      'update mkdirp to a release that depends on minimist@>=0.2.4 (via mkdirp@0.5.1 > minimist@0.0.8), or force it with "overrides": { "minimist": "0.2.4" } in package.json',
    );
    const yarn = JSON.parse((await runCli(['audit', join(FIX, 'vulnerable/yarn-classic'), '--osv', OSV, '--json'])).stdout) as JsonReport;
    expect(yarn.findings.find((f) => f.id === 'GHSA-hjrf-2m68-5959')!.remediation).toBe('yarn add jsonwebtoken@9.0.0');
  });

  it('requirements.txt and Cargo.lock', async () => {
    const py = await runCli(['audit', join(FIX, 'vulnerable/python'), '--osv', OSV, '--json']);
    const pyReport = JSON.parse(py.stdout) as JsonReport;
    expect(summarize(pyReport)).toEqual([['GHSA-j8r2-6x86-q33q', ['CVE-2023-32681', 'PYSEC-2023-74'], 'requests', '2.30.0', 'medium', '2.31.0', true, ['requests@2.30.0']]]);
    expect(pyReport.warnings).toEqual([expect.stringContaining('flask is not pinned')]);
    const cargo = JSON.parse((await runCli(['audit', join(FIX, 'vulnerable/cargo'), '--osv', OSV, '--json'])).stdout) as JsonReport;
    expect(summarize(cargo)).toEqual([['RUSTSEC-2020-0071', ['GHSA-wcg3-cvx6-7396', 'CVE-2020-26235'], 'time', '0.1.43', 'medium', '0.2.23', false, ['chrono@0.4.19', 'time@0.1.43']]]);
    expect(cargo.findings[0]!.remediation).toBe('cargo update -p time --precise 0.2.23');
  });

  it('table output: one row per finding and a summary line', async () => {
    const r = await runCli(['audit', join(FIX, 'vulnerable/npm-v3'), '--osv', OSV]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SEVERITY\s+PACKAGE\s+VERSION\s+ADVISORY\s+FIXED IN\s+DEPENDENCY PATH$/);
    expect(lines[1]).toMatch(/^CRITICAL 9\.8\s+minimist\s+0\.0\.8\s+GHSA-xvch-5gv4-984h\s+0\.2\.4\s+mkdirp@0\.5\.1 > minimist@0\.0\.8$/);
    expect(r.stdout).toContain('GHSA-xvch-5gv4-984h (CVE-2021-44906) minimist@0.0.8: Prototype Pollution in minimist');
    expect(r.stdout.match(/CVE-2021-44906/g)!.length).toBe(1);
    expect(r.stdout).toMatch(/5 vulnerabilities \(1 critical, 2 high, 2 medium\) in 8 packages from .*package-lock\.json \[package-lock\.json v3\]; 9 advisories checked\n$/);
  });

  it('a clean tree exits 0', async () => {
    const r = await runCli(['audit', join(FIX, 'clean'), '--osv', OSV]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^no known vulnerabilities in 4 packages/);
  });

  it('--fail-on sets the threshold for exit 1', async () => {
    const dir = join(FIX, 'vulnerable/python');
    expect((await runCli(['audit', dir, '--osv', OSV, '--fail-on', 'medium'])).code).toBe(1);
    expect((await runCli(['audit', dir, '--osv', OSV, '--fail-on', 'high'])).code).toBe(0);
    expect((await runCli(['audit', join(FIX, 'vulnerable/npm-v3'), '--osv', OSV, '--fail-on', 'critical'])).code).toBe(1);
    expect((await runCli(['audit', join(FIX, 'vulnerable/npm-v3'), '--osv', OSV, '--fail-on', 'none'])).code).toBe(0);
    const bad = await runCli(['audit', dir, '--osv', OSV, '--fail-on', 'severe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('rampart audit: unknown --fail-on "severe" (use low, medium, high, critical or none)\n');
  });

  it('SARIF 2.1.0 and a self-contained HTML report', async () => {
    const out = join(tempDir('rampart-report-'), 'audit.sarif');
    const r = await runCli(['audit', join(FIX, 'vulnerable/npm-v3'), '--osv', OSV, '--format', 'sarif', '--out', out]);
    expect(r.code).toBe(1);
    const sarif = JSON.parse(readFileSync(out, 'utf8')) as { version: string; runs: { tool: { driver: { rules: { id: string; properties: Record<string, string> }[] } }; results: { ruleId: string; level: string }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.results.map((x) => [x.ruleId, x.level])).toEqual([
      ['GHSA-xvch-5gv4-984h', 'error'],
      ['GHSA-p6mc-m468-83gw', 'error'],
      ['GHSA-35jh-r3h4-6jhm', 'error'],
      ['GHSA-29mw-wpgm-hmr9', 'warning'],
      ['GHSA-hjrf-2m68-5959', 'warning'],
    ]);
    expect(sarif.runs[0]!.tool.driver.rules[0]!.properties['security-severity']).toBe('9.8');
    const html = await runCli(['audit', join(FIX, 'vulnerable/npm-v3'), '--osv', OSV, '--format', 'html']);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).toContain('jsonwebtoken&#39;s insecure implementation');
    expect(html.stdout).not.toMatch(/<script|<link|src=/);
  });

  it('a ZIP of OSV records gives the same findings as the directory', async () => {
    const r = await runCli(['audit', join(FIX, 'vulnerable/npm-v3'), '--osv', join(FIX, 'osv-npm.zip'), '--json']);
    expect(summarize(JSON.parse(r.stdout) as JsonReport)).toEqual(NPM_FINDINGS);
  });

  it('RAMPART_OSV_PATH supplies the advisory data; without any, a clear usage error', async () => {
    expect((await runCli(['audit', join(FIX, 'clean')], { env: { RAMPART_OSV_PATH: OSV } })).code).toBe(0);
    const r = await runCli(['audit', join(FIX, 'clean')], { env: { RAMPART_OSV_PATH: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rampart audit: no advisory data: give --osv PATH/);
    expect((await runCli(['audit', '--osv', OSV, '--online'])).code).toBe(2);
  });

  it('malformed lockfile or OSV record: exit 2, one line naming file and position, no stack trace', async () => {
    const dir = tempDir('rampart-bad-');
    writeFileSync(join(dir, 'package-lock.json'), '{\n  "lockfileVersion": 3,\n  "packages": {,}\n}\n');
    const r = await runCli(['audit', dir, '--osv', OSV]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`rampart audit: ${join(dir, 'package-lock.json')}:3:16: invalid JSON: Expected property name or '}'\n`);
    expectCleanError(r.stderr);

    const osv = tempDir('rampart-badosv-');
    cpSync(OSV, osv, { recursive: true });
    writeFileSync(join(osv, 'npm', 'GHSA-p6mc-m468-83gw.json'), JSON.stringify({ id: 'GHSA-p6mc-m468-83gw', modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'ECOSYSTEM', events: [] }] }] }));
    const r2 = await runCli(['audit', join(FIX, 'clean'), '--osv', osv]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toBe(`rampart audit: ${join(osv, 'npm', 'GHSA-p6mc-m468-83gw.json')}: affected[0].ranges[0].events: expected at least one item\n`);
    expectCleanError(r2.stderr);

    const r3 = await runCli(['audit', tempDir('rampart-empty-'), '--osv', OSV]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/: no lockfile found \(looked for npm-shrinkwrap\.json, package-lock\.json, yarn\.lock, pnpm-lock\.yaml, requirements\.txt, Cargo\.lock\)\n$/);
  });

  it('--ignore records an exception with a reason and expiry; expired exceptions report again', async () => {
    const dir = tempDir('rampart-ignore-');
    cpSync(join(FIX, 'vulnerable/npm-v3'), dir, { recursive: true });
    const add = await runCli(['audit', dir, '--ignore', 'CVE-2021-44906', '--reason', 'CLI-only use, no untrusted args', '--expires', '30d']);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^ignoring CVE-2021-44906 until \d{4}-\d\d-\d\dT.*\.rampart-audit-ignore\.json\)\n$/);
    const report = JSON.parse((await runCli(['audit', dir, '--osv', OSV, '--json'])).stdout) as JsonReport;
    expect(report.findings.map((f) => f.id)).not.toContain('GHSA-xvch-5gv4-984h');
    expect(report.ignored).toEqual([expect.objectContaining({ id: 'GHSA-xvch-5gv4-984h', reason: 'CLI-only use, no untrusted args' })]);

    const file = join(dir, '.rampart-audit-ignore.json');
    const data = JSON.parse(readFileSync(file, 'utf8')) as { ignores: { expires: string }[] };
    data.ignores[0]!.expires = '2020-01-01T00:00:00.000Z';
    writeFileSync(file, JSON.stringify(data));
    const expired = JSON.parse((await runCli(['audit', dir, '--osv', OSV, '--json'])).stdout) as JsonReport;
    expect(expired.findings[0]!.id).toBe('GHSA-xvch-5gv4-984h');
    expect(expired.warnings).toEqual(['ignore of CVE-2021-44906 expired on 2020-01-01T00:00:00.000Z (reason was: CLI-only use, no untrusted args); it is reported again']);

    expect((await runCli(['audit', dir, '--ignore', 'X'])).stderr).toBe('rampart audit: --ignore needs --reason TEXT (why the risk is accepted)\n');
  });

  it('(process) --self audits Rampart\'s own package-lock.json', async () => {
    const r = await runProcess(['audit', '--self', '--osv', OSV, '--json']);
    const report = JSON.parse(r.stdout) as JsonReport & { lockfiles: { file: string }[] };
    expect(report.lockfiles).toEqual([expect.objectContaining({ file: join(ROOT, 'package-lock.json'), format: 'package-lock.json v3' })]);
    expect(report.packages).toBeGreaterThan(100);
    expect(r.code).toBe(report.findings.length > 0 ? 1 : 0);
  }, PROCESS_TIMEOUT);
});

describe('rampart audit --online (local server speaking the OSV API)', () => {
  let server: Server;
  let url = '';
  const calls: string[] = [];
  beforeAll(async () => {
    const records = new Map<string, { id: string; affected?: { package: { name: string; ecosystem: string } }[] }>();
    for (const eco of readdirSync(OSV)) for (const f of readdirSync(join(OSV, eco))) {
      const r = JSON.parse(readFileSync(join(OSV, eco, f), 'utf8')) as { id: string; affected?: { package: { name: string; ecosystem: string } }[] };
      records.set(r.id, r);
    }
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        calls.push(`${req.method} ${req.url}`);
        if (req.method === 'POST' && req.url === '/v1/querybatch') {
          const { queries } = JSON.parse(body) as { queries: { package: { name: string; ecosystem: string }; page_token?: string }[] };
          // Like osv.dev, answer by name; page lodash's advisories to exercise next_page_token.
          const results = queries.map((q) => {
            const ids = [...records.values()].filter((r) => r.affected?.some((a) => a.package.name === q.package.name && a.package.ecosystem === q.package.ecosystem)).map((r) => r.id).sort();
            if (q.package.name === 'lodash' && q.page_token === undefined) return { vulns: ids.slice(0, 1).map((id) => ({ id })), next_page_token: 'page2' };
            if (q.package.name === 'lodash') return { vulns: ids.slice(1).map((id) => ({ id })) };
            return ids.length === 0 ? {} : { vulns: ids.map((id) => ({ id })) };
          });
          res.setHeader('content-type', 'application/json');
          return res.end(JSON.stringify({ results }));
        }
        const m = /^\/v1\/vulns\/(.+)$/.exec(req.url ?? '');
        const record = m !== null ? records.get(decodeURIComponent(m[1]!)) : undefined;
        if (req.method === 'GET' && record !== undefined) return res.end(JSON.stringify(record));
        res.statusCode = 404;
        res.end('{"code":5,"message":"Bug not found."}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('(process) gives the same findings as the offline data, following page tokens', async () => {
    const r = await runProcess(['audit', join(FIX, 'vulnerable/pnpm-v9'), '--online', '--osv-url', url, '--json']);
    expect(r.stderr).toBe('');
    expect(summarize(JSON.parse(r.stdout) as JsonReport)).toEqual(NPM_FINDINGS);
    expect(calls.filter((c) => c === 'POST /v1/querybatch').length).toBe(2);
    expect(calls).toContain('GET /v1/vulns/GHSA-27h2-hvpr-p74q');
  }, PROCESS_TIMEOUT);

  it('an unreachable API is a clear error, exit 2', async () => {
    const r = await runCli(['audit', join(FIX, 'clean'), '--online'], { env: { RAMPART_OSV_URL: `${url}/nothing-here` } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`rampart audit: ${url}/nothing-here/v1/querybatch: OSV API answered 404\n`);
  });
});
