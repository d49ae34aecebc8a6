import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditInputError } from '../../src/audit/errors.js';
import { findLockfiles, parseLockfile } from '../../src/audit/lockfiles/index.js';
import type { DependencyGraph } from '../../src/audit/types.js';
import { ROOT, tempDir } from '../helpers/gateway.js';

const VULN = join(ROOT, 'test/fixtures/audit/vulnerable');
const NPM_FORMATS = ['npm-v1', 'npm-v2', 'npm-v3', 'npm-shrinkwrap', 'yarn-classic', 'yarn-berry', 'pnpm-v5', 'pnpm-v6', 'pnpm-v9'];

function edges(g: DependencyGraph): string[] {
  return [...g.packages.values()].flatMap((p) => [...p.dependencies].map((d) => `${p.id} -> ${d}`)).sort();
}

describe('npm-ecosystem lockfiles: the same tree read from every format', () => {
  it.each(NPM_FORMATS)('%s', (dir) => {
    const [file] = findLockfiles(join(VULN, dir));
    const g = parseLockfile(file!);
    expect(g.ecosystem).toBe('npm');
    expect([...g.packages.keys()].sort()).toEqual(['glob@7.2.3', 'jsonwebtoken@8.5.1', 'lodash@4.17.15', 'minimist@0.0.8', 'minimist@1.2.6', 'mkdirp@0.5.1', 'ms@2.1.3', 'rimraf@2.7.1']);
    expect([...g.direct].sort()).toEqual(['jsonwebtoken@8.5.1', 'lodash@4.17.15', 'minimist@1.2.6', 'mkdirp@0.5.1', 'rimraf@2.7.1']);
    // mkdirp gets its own nested minimist 0.0.8, not the top-level 1.2.6.
    expect(edges(g)).toEqual(['jsonwebtoken@8.5.1 -> ms@2.1.3', 'mkdirp@0.5.1 -> minimist@0.0.8', 'rimraf@2.7.1 -> glob@7.2.3']);
    expect([...g.packages.values()].filter((p) => p.dev).map((p) => p.id).sort()).toEqual(['glob@7.2.3', 'rimraf@2.7.1']);
    expect(g.warnings).toEqual([]);
    if (dir !== 'yarn-berry') expect(g.packages.get('lodash@4.17.15')!.integrity[0]).toMatch(/^sha512-/);
  });

  it('names the format and version', () => {
    const formats = NPM_FORMATS.map((d) => parseLockfile(findLockfiles(join(VULN, d))[0]!).format);
    expect(formats).toEqual(['package-lock.json v1', 'package-lock.json v2', 'package-lock.json v3', 'npm-shrinkwrap.json v3', 'yarn.lock (classic v1)', 'yarn.lock (berry v8)', 'pnpm-lock.yaml v5.4', 'pnpm-lock.yaml v6.0', 'pnpm-lock.yaml v9.0']);
  });

  it('npm-shrinkwrap.json wins over package-lock.json, as in npm', () => {
    const dir = tempDir('rampart-lock-');
    writeFileSync(join(dir, 'package-lock.json'), '{}');
    writeFileSync(join(dir, 'npm-shrinkwrap.json'), '{}');
    expect(findLockfiles(dir)).toEqual([join(dir, 'npm-shrinkwrap.json')]);
  });

  it('package-lock v3 with workspaces and a scoped alias', () => {
    const dir = tempDir('rampart-lock-');
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'mono', workspaces: ['packages/*'] },
          'packages/api': { name: '@mono/api', version: '1.0.0', dependencies: { '@mono/util': '*', 'old-lodash': 'npm:lodash@4.17.15' } },
          'node_modules/@mono/api': { resolved: 'packages/api', link: true },
          'node_modules/@mono/util': { resolved: 'packages/util', link: true },
          'packages/util': { name: '@mono/util', version: '1.0.0', dependencies: { '@scope/x': '^1' } },
          'node_modules/old-lodash': { name: 'lodash', version: '4.17.15' },
          'node_modules/@scope/x': { version: '1.2.3', dependencies: { 'old-lodash': '*' } },
        },
      }),
    );
    const g = parseLockfile(join(dir, 'package-lock.json'));
    expect([...g.direct].sort()).toEqual(['@scope/x@1.2.3', 'lodash@4.17.15']);
    expect(edges(g)).toEqual(['@scope/x@1.2.3 -> lodash@4.17.15']);
    expect(g.warnings).toEqual([]);
  });
});

describe('other ecosystems', () => {
  it('requirements.txt: pinned lines are direct dependencies, hashes kept, unpinned ones warned about', () => {
    const g = parseLockfile(join(VULN, 'python/requirements.txt'));
    expect(g.ecosystem).toBe('PyPI');
    expect([...g.packages.keys()]).toEqual(['requests@2.30.0', 'urllib3@2.0.7', 'django@4.2.11']);
    expect([...g.direct].length).toBe(3);
    expect(g.packages.get('requests@2.30.0')!.integrity).toEqual(['sha256:10e94cc4f3121ee6da529d358cdaeaff2f1c409cd377dbc72b825852f2f7e099']);
    expect(g.warnings).toEqual([expect.stringMatching(/requirements\.txt:6: flask is not pinned with == \(>=2\.0\); not audited$/)]);
  });

  it('Cargo.lock: workspace crates are the project, their dependencies direct', () => {
    const g = parseLockfile(join(VULN, 'cargo/Cargo.lock'));
    expect(g.root).toEqual({ name: 'app', version: '0.1.0' });
    expect([...g.direct].sort()).toEqual(['chrono@0.4.19', 'serde@1.0.197']);
    expect(edges(g)).toEqual(['chrono@0.4.19 -> time@0.1.43']);
  });
});

describe('malformed lockfiles name the file and the position', () => {
  const cases: [string, string, RegExp][] = [
    ['package-lock.json', '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {}\n    "node_modules/a": {}\n  }\n}', /package-lock\.json:5:5: invalid JSON: Expected ',' or '}' after property value$/],
    ['package-lock.json', '{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": 7}}}', /package-lock\.json: packages\.node_modules\/a\.version: Invalid input: expected string, received number$/],
    ['package-lock.json', '{"lockfileVersion": 9}', /package-lock\.json: lockfileVersion: Too big: expected number to be <=3$/],
    ['yarn.lock', '# yarn lockfile v1\n\nlodash@^4:\n  version "4.17.21"\n  resolved\n', /yarn\.lock:5:3: expected "key value"$/],
    ['yarn.lock', '# yarn lockfile v1\n\nlodash@^4\n', /yarn\.lock:3:9: expected a package key ending in ":"$/],
    ['yarn.lock', '__metadata:\n  version: 8\n"a@npm:1": [unclosed\n', /yarn\.lock:4:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a \]/],
    ['pnpm-lock.yaml', "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {resolution: {integrity: 5}}\n", /pnpm-lock\.yaml: packages\.a@1\.0\.0\.resolution\.integrity: Invalid input: expected string, received number$/],
    ['pnpm-lock.yaml', "lockfileVersion: '9.0'\npackages:\n  - a\n  b: c\n", /pnpm-lock\.yaml:4:\d+: invalid YAML: /],
    ['requirements.txt', 'requests==2.31.0\n!!garbage\n', /requirements\.txt:2:1: not a requirement: "!!garbage"$/],
    ['Cargo.lock', '[[package]]\nname = "a"\nversion = 1.0\n', /Cargo\.lock:3:1: expected a quoted string, got 1\.0$/],
  ];
  it.each(cases)('%s: %s', (name, text, message) => {
    const dir = tempDir('rampart-bad-');
    writeFileSync(join(dir, name), text);
    let error: unknown;
    try {
      parseLockfile(join(dir, name));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AuditInputError);
    expect((error as Error).message).toMatch(message);
  });
});
