/**
 * `npm run bench:audit`: audits a generated 2,000-package package-lock.json against a generated
 * 20,000-record OSV set (directory, then the same records as a ZIP) and prints the time of each
 * stage. Nothing is downloaded; the data is made here with a fixed seed.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { auditGraphs } from '../src/audit/audit.js';
import { parseLockfile } from '../src/audit/lockfiles/index.js';
import { loadOsv } from '../src/audit/osv/database.js';
import { renderReport } from '../src/audit/report/index.js';

const PACKAGES = Number(process.env.BENCH_PACKAGES ?? 2000);
const ADVISORIES = Number(process.env.BENCH_ADVISORIES ?? 20000);

let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}
const pick = (n: number): number => Math.floor(random() * n);

const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-'));
const osvDir = join(dir, 'osv');
mkdirSync(osvDir);

// A lockfile: every package has 0–4 dependencies on later packages, a few direct ones.
const packages: Record<string, unknown> = { '': { name: 'bench', version: '1.0.0', dependencies: {} as Record<string, string> } };
for (let i = 0; i < PACKAGES; i++) {
  const deps: Record<string, string> = {};
  for (let d = pick(5); d > 0; d--) {
    const j = i + 1 + pick(Math.max(1, PACKAGES - i - 1));
    if (j < PACKAGES) deps[`pkg-${j}`] = '*';
  }
  packages[`node_modules/pkg-${i}`] = { version: `${pick(5)}.${pick(20)}.${pick(20)}`, integrity: `sha512-${Buffer.alloc(64, i % 256).toString('base64')}`, dependencies: deps };
  if (i < 40) (packages[''] as { dependencies: Record<string, string> }).dependencies[`pkg-${i}`] = '*';
}
writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'bench', version: '1.0.0', lockfileVersion: 3, packages }));

// Advisories: a third name packages in the lockfile, the rest other packages (as in a real npm export).
for (let i = 0; i < ADVISORIES; i++) {
  const name = random() < 0.33 ? `pkg-${pick(PACKAGES)}` : `other-${pick(50_000)}`;
  const record = {
    schema_version: '1.6.0',
    id: `BENCH-${i}`,
    modified: '2024-01-01T00:00:00Z',
    aliases: [`CVE-2024-${i}`],
    summary: `generated advisory ${i}`,
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N' }],
    affected: [{ package: { ecosystem: 'npm', name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: `${pick(3)}.0.0` }, { fixed: `${pick(5)}.${pick(20)}.0` }] }] }],
  };
  writeFileSync(join(osvDir, `BENCH-${i}.json`), JSON.stringify(record));
}
const sources = [osvDir];
try {
  execFileSync('zip', ['-q', '-r', join(dir, 'osv.zip'), '.'], { cwd: osvDir });
  sources.push(join(dir, 'osv.zip'));
} catch {
  console.log('zip(1) not installed: skipping the ZIP run');
}

function time<T>(label: string, fn: () => T): T {
  const start = performance.now();
  const value = fn();
  console.log(`${label.padEnd(34)} ${(performance.now() - start).toFixed(0).padStart(6)} ms`);
  return value;
}

console.log(`${PACKAGES} packages, ${ADVISORIES} advisories (data in ${dir})`);
for (const source of sources) {
  const total = performance.now();
  const graph = time('parse package-lock.json', () => parseLockfile(join(dir, 'package-lock.json')));
  const db = time(`load OSV ${source.endsWith('.zip') ? 'zip' : 'directory'}`, () => loadOsv(source));
  const result = time('match', () => auditGraphs([graph], db));
  time('render table', () => renderReport(result, 'table', 'bench'));
  console.log(`${'total'.padEnd(34)} ${(performance.now() - total).toFixed(0).padStart(6)} ms  (${result.findings.length} findings)\n`);
}
