import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { hashOf, purlOf } from '../../src/sbom/cyclonedx.js';
import { ROOT, runCli as runProcess, tempDir } from '../helpers/gateway.js';

const FIX = join(ROOT, 'test/fixtures/audit');

/** The official CycloneDX 1.5 JSON schema (shipped by @cyclonedx/cyclonedx-library) with its SPDX and JSF parts. */
function validator(): (data: unknown) => string[] {
  const dir = join(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json'), '../res/schema');
  const load = (f: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(load('spdx.SNAPSHOT.schema.json'), 'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json');
  ajv.addSchema(load('jsf-0.82.SNAPSHOT.schema.json'), 'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json');
  const validate = ajv.compile(load('bom-1.5.SNAPSHOT.schema.json'));
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
}
const validate = validator();

interface Bom {
  specVersion: string;
  metadata: { timestamp: string; component: { 'bom-ref': string; name: string } };
  components: { 'bom-ref': string; name: string; group?: string; purl: string; scope: string; hashes?: { alg: string; content: string }[]; licenses?: unknown[] }[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

async function sbom(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Bom> {
  let out = '';
  const code = await main(['sbom', ...args], { out: (t) => (out += t), err: () => undefined, env: { ...process.env, ...env } });
  expect(code).toBe(0);
  return JSON.parse(out) as Bom;
}

describe('rampart sbom', () => {
  it('npm tree: components with purls, SHA-512 from integrity, licences, scopes and the graph; valid CycloneDX 1.5', async () => {
    const bom = await sbom([join(FIX, 'vulnerable/npm-v3')], { SOURCE_DATE_EPOCH: '1700000000' });
    expect(validate(bom)).toEqual([]);
    expect(bom.specVersion).toBe('1.5');
    expect(bom.metadata.timestamp).toBe('2023-11-14T22:13:20Z');
    expect(bom.metadata.component.name).toBe('vulnerable-app');
    expect(bom.components.map((c) => c.purl)).toEqual([
      'pkg:npm/glob@7.2.3',
      'pkg:npm/jsonwebtoken@8.5.1',
      'pkg:npm/lodash@4.17.15',
      'pkg:npm/minimist@0.0.8',
      'pkg:npm/minimist@1.2.6',
      'pkg:npm/mkdirp@0.5.1',
      'pkg:npm/ms@2.1.3',
      'pkg:npm/rimraf@2.7.1',
    ]);
    const lodash = bom.components.find((c) => c.name === 'lodash')!;
    expect(lodash.hashes).toEqual([{ alg: 'SHA-512', content: expect.stringMatching(/^[0-9a-f]{128}$/) }]);
    expect(lodash.licenses).toEqual([{ license: { id: 'MIT' } }]);
    expect(bom.components.find((c) => c.name === 'rimraf')!.scope).toBe('excluded');
    const deps = Object.fromEntries(bom.dependencies.map((d) => [d.ref, d.dependsOn]));
    expect(deps[bom.metadata.component['bom-ref']]).toEqual(['pkg:npm/jsonwebtoken@8.5.1', 'pkg:npm/lodash@4.17.15', 'pkg:npm/minimist@1.2.6', 'pkg:npm/mkdirp@0.5.1', 'pkg:npm/rimraf@2.7.1']);
    expect(deps['pkg:npm/mkdirp@0.5.1']).toEqual(['pkg:npm/minimist@0.0.8']);
  });

  it('PyPI and Cargo lockfiles: pypi and cargo purls with SHA-256 hashes', async () => {
    const py = await sbom([join(FIX, 'vulnerable/python')]);
    expect(validate(py)).toEqual([]);
    expect(py.components.find((c) => c.name === 'requests')!).toMatchObject({ purl: 'pkg:pypi/requests@2.30.0', hashes: [{ alg: 'SHA-256', content: '10e94cc4f3121ee6da529d358cdaeaff2f1c409cd377dbc72b825852f2f7e099' }] });
    const cargo = await sbom([join(FIX, 'vulnerable/cargo/Cargo.lock')]);
    expect(validate(cargo)).toEqual([]);
    expect(cargo.components.map((c) => c.purl)).toEqual(['pkg:cargo/chrono@0.4.19', 'pkg:cargo/serde@1.0.197', 'pkg:cargo/time@0.1.43']);
  });

  it('purls and hashes', () => {
    expect(purlOf('npm', '@babel/core', '7.24.0')).toBe('pkg:npm/%40babel/core@7.24.0');
    expect(purlOf('PyPI', 'Django_Rest', '1.0+local')).toBe('pkg:pypi/django-rest@1.0%2Blocal');
    expect(hashOf('sha1-AAEC')).toEqual({ alg: 'SHA-1', content: '000102' });
    expect(hashOf('md5-AAEC')).toBeUndefined();
  });

  it('(process) --self: Rampart\'s own installation, licences read from node_modules, valid CycloneDX 1.5', async () => {
    const out = join(tempDir('rampart-sbom-'), 'bom.json');
    const r = await runProcess(['sbom', '--self', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^SBOM written to .*bom\.json \(\d+ components\)\n$/);
    const bom = JSON.parse(readFileSync(out, 'utf8')) as Bom;
    expect(validate(bom)).toEqual([]);
    expect(bom.metadata.component.name).toBe('rampart');
    const zod = bom.components.find((c) => c.name === 'zod')!;
    expect(zod.purl).toMatch(/^pkg:npm\/zod@4\./);
    expect(zod.licenses).toEqual([{ license: { id: 'MIT' } }]);
    expect(zod.scope).toBe('required');
    expect(bom.components.find((c) => c.name === 'vitest')!.scope).toBe('excluded');
  }, 120_000);

  it('bad input: exit 2 with the file named', async () => {
    let err = '';
    const code = await main(['sbom', join(FIX, 'osv')], { out: () => undefined, err: (t) => (err += t), env: {} });
    expect(code).toBe(2);
    expect(err).toMatch(/^rampart sbom: .*osv: no lockfile found/);
  });
});
