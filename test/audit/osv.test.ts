import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditInputError } from '../../src/audit/errors.js';
import { AdvisoryDatabase, loadOsv } from '../../src/audit/osv/database.js';
import { matchAffected } from '../../src/audit/osv/match.js';
import { PEP440_SCHEME, SEMVER_SCHEME } from '../../src/audit/osv/versions.js';
import { readZip } from '../../src/audit/osv/zip.js';
import { severityOf } from '../../src/audit/severity.js';
import { ROOT, tempDir } from '../helpers/gateway.js';

const FIX = join(ROOT, 'test/fixtures/audit');
const cases = loadOsv(join(FIX, 'osv-cases'));

/** Affected? and the fix reported, for one installed version of a case package. */
function check(pkg: string, version: string): string | boolean {
  const entries = cases.lookup('npm', pkg);
  expect(entries.length).toBe(1);
  const m = matchAffected(version, entries[0]!.affected, 'npm');
  return m === null ? false : (m.fixed ?? true);
}

describe('OSV affected evaluation (every event kind)', () => {
  it.each([
    ['case-introduced-fixed', '0.9.9', false],
    ['case-introduced-fixed', '1.0.0', '1.2.0'],
    ['case-introduced-fixed', '1.1.9', '1.2.0'],
    ['case-introduced-fixed', '1.2.0', false],
    ['case-last-affected', '0.0.1', true],
    ['case-last-affected', '2.0.0', true],
    ['case-last-affected', '2.0.1-beta.1', false],
    ['case-last-affected', '2.0.1', false],
    ['case-limit', '0.5.0', false],
    ['case-limit', '1.0.0', true],
    ['case-limit', '2.9.9', true],
    ['case-limit', '3.0.0', false],
    ['case-limit', '4.0.0', false],
    ['case-limit-star', '99.0.0', true],
    ['case-reintroduced', '0.5.0', '1.0.0'],
    ['case-reintroduced', '1.5.0', false],
    ['case-reintroduced', '2.0.5', '2.1.0'],
    ['case-reintroduced', '2.1.0', false],
    ['case-versions-list', '5.0.0', true],
    ['case-versions-list', '5.0.1', false],
    ['case-versions-list', '5.0.2', true],
    ['case-prerelease', '5.9.9', false],
    ['case-prerelease', '6.0.0-alpha.0', false],
    ['case-prerelease', '6.0.0-beta.2', '6.0.0'],
    ['case-prerelease', '6.0.0', false],
    ['case-unsorted-events', '1.1.0', '1.2.0'],
    ['case-unsorted-events', '1.2.0', false],
    ['case-two-ranges', '1.0.4', '1.0.5'],
    ['case-two-ranges', '1.5.0', false],
    ['case-two-ranges', '2.0.2', '2.0.3'],
  ])('%s %s → %s', (pkg, version, expected) => {
    expect(check(pkg, version)).toBe(expected);
  });

  it('skips ranges whose versions the ecosystem cannot order, and GIT ranges', () => {
    expect(matchAffected('1.0.0', { ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: 'not-a-version' }] }] }, 'npm')).toBeNull();
    expect(matchAffected('1.0.0', { ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] }, 'npm')).toBeNull();
  });

  it('SEMVER ranges use SemVer even in PyPI, ECOSYSTEM ranges use PEP 440 there', () => {
    expect(matchAffected('1.0.0rc1', { ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }] }, 'PyPI')).toEqual({ fixed: '1.0.0' });
    expect(matchAffected('1.0.0-rc.1', { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }] }, 'PyPI')).toEqual({ fixed: '1.0.0' });
  });
});

describe('version orderings', () => {
  it('PEP 440: dev < pre < release < post, epochs, trailing zeros, local versions', () => {
    const order = ['1.0.dev0', '1.0a1', '1.0b2', '1.0rc1', '1.0', '1.0.post1', '1.1', '1!0.1'];
    for (let i = 0; i + 1 < order.length; i++) expect(PEP440_SCHEME.compare(order[i]!, order[i + 1]!)).toBe(-1);
    expect(PEP440_SCHEME.compare('1.0', '1.0.0')).toBe(0);
    expect(PEP440_SCHEME.compare('1.0+local.1', '1.0')).toBe(1);
    expect(PEP440_SCHEME.compare('2.0.0-rc1', '2.0.0rc1')).toBe(0);
    expect(PEP440_SCHEME.compare('banana', '1.0')).toBeNull();
  });
  it('SemVer: pre-releases before the release, build metadata ignored, leading v accepted', () => {
    expect(SEMVER_SCHEME.compare('1.0.0-rc.1', '1.0.0')).toBe(-1);
    expect(SEMVER_SCHEME.compare('v1.0.0+build.5', '1.0.0')).toBe(0);
    expect(SEMVER_SCHEME.compare('1.x', '1.0.0')).toBeNull();
  });
});

describe('OSV data loading', () => {
  it('loads a directory and a ZIP identically, skipping withdrawn records', () => {
    const dir = loadOsv(join(FIX, 'osv/npm'));
    const zip = loadOsv(join(FIX, 'osv-npm.zip'));
    expect([...zip.records.keys()].sort()).toEqual([...dir.records.keys()].sort());
    expect(dir.withdrawn).toEqual(['GHSA-27h2-hvpr-p74q']);
    expect(zip.withdrawn).toEqual(['GHSA-27h2-hvpr-p74q']);
    expect(dir.lookup('npm', 'lodash').map((e) => e.record.id).sort()).toEqual(['GHSA-29mw-wpgm-hmr9', 'GHSA-35jh-r3h4-6jhm', 'GHSA-p6mc-m468-83gw']);
  });

  it('a withdrawal dated in the future does not hide the advisory yet', () => {
    const record = JSON.parse(readFileSync(join(FIX, 'osv/npm/GHSA-27h2-hvpr-p74q.json'), 'utf8')) as { id: string; modified: string };
    const db = new AdvisoryDatabase([record], Date.parse('2022-12-01T00:00:00Z'));
    expect(db.records.has('GHSA-27h2-hvpr-p74q')).toBe(true);
  });

  it('PyPI names are matched after PEP 503 normalisation', () => {
    const db = loadOsv(join(FIX, 'osv/PyPI'));
    expect(db.lookup('PyPI', 'Requests').length).toBe(2);
  });

  it('a malformed record names the file, line and column (JSON) or the field (schema)', () => {
    const dir = tempDir('rampart-osv-');
    writeFileSync(join(dir, 'BAD.json'), '{\n  "id": "X",\n  "modified": "2024-01-01T00:00:00Z",\n}\n');
    expect(() => loadOsv(dir)).toThrow(new AuditInputError(join(dir, 'BAD.json'), 'invalid JSON: Expected double-quoted property name', { line: 4, column: 1 }));
    const dir2 = tempDir('rampart-osv-');
    mkdirSync(join(dir2, 'npm'));
    writeFileSync(join(dir2, 'npm', 'BAD.json'), JSON.stringify({ id: 'X', modified: 'now', affected: [{ ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0', fixed: '1' }] }] }] }));
    expect(() => loadOsv(dir2)).toThrow(/npm\/BAD\.json: affected\[0\]\.ranges\[0\]\.events\[0\]: an event has exactly one of introduced, fixed, last_affected, limit/);
  });

  it('a damaged ZIP is reported, never inflated past its declared size', () => {
    const zip = readFileSync(join(FIX, 'osv-npm.zip'));
    expect(() => readZip('x.zip', Buffer.from('not a zip at all, just text'), 1 << 20)).toThrow(/x\.zip: not a valid ZIP archive: no end of central directory record/);
    const entries = readZip('y.zip', zip, 1 << 20);
    expect(entries.map((e) => e.name)).toContain('README.txt');
    expect(() => readZip('y.zip', zip, 10)[1]!.read()).toThrow(/larger than 10 bytes/);
    // Flip a byte inside the second entry's compressed data: the CRC check catches it.
    const damaged = Buffer.from(zip);
    const second = entries[1]!;
    const offset = damaged.indexOf(Buffer.from(second.name)) + second.name.length + 5;
    damaged[offset] = damaged[offset]! ^ 0xff;
    expect(() => readZip('z.zip', damaged, 1 << 20)[1]!.read()).toThrow(/z\.zip: not a valid ZIP archive/);
  });
});

describe('severity', () => {
  it('computes CVSS v3 and v4 base scores, else uses the database rating', () => {
    expect(severityOf({ id: 'A', modified: '', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] })).toMatchObject({ severity: 'critical', score: 9.8 });
    expect(severityOf({ id: 'B', modified: '', severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }] })).toMatchObject({ severity: 'critical', score: 9.3 });
    expect(severityOf({ id: 'C', modified: '', severity: [{ type: 'CVSS_V3', score: 'garbage' }], database_specific: { severity: 'MODERATE' } })).toEqual({ severity: 'medium' });
    expect(severityOf({ id: 'D', modified: '' })).toEqual({ severity: 'unknown' });
  });
});
