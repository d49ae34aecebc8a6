import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { auditGraphs } from '../../src/audit/audit.js';
import { parseLockfile } from '../../src/audit/lockfiles/index.js';
import { AdvisoryDatabase, loadOsv } from '../../src/audit/osv/database.js';
import { checkOsvRecord, type OsvRecord } from '../../src/audit/osv/schema.js';
import { renderReport } from '../../src/audit/report/index.js';
import { tempDir } from '../helpers/gateway.js';

/** A one-entry ZIP whose headers claim `declaredSize` bytes for `data`. */
function zipOf(name: string, data: Buffer, declaredSize = data.length): Buffer {
  const body = deflateRawSync(data);
  const nameBuf = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(declaredSize, 22);
  local.writeUInt16LE(nameBuf.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc32(data), 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(declaredSize, 24);
  central.writeUInt16LE(nameBuf.length, 28);
  central.writeUInt32LE(0, 42);
  const cdOffset = local.length + nameBuf.length + body.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBuf.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, nameBuf, body, central, nameBuf, end]);
}

const RECORD: OsvRecord = { id: 'GHSA-test', modified: '2024-01-01T00:00:00Z', summary: 'ok', affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }] }] };

describe('hostile OSV archives', () => {
  it('a ZIP entry that inflates past its declared size (zip bomb) is refused', () => {
    const dir = tempDir('rampart-zip-');
    const bomb = Buffer.concat([Buffer.from(JSON.stringify(RECORD)), Buffer.alloc(5 * 1024 * 1024, 0x20)]);
    writeFileSync(join(dir, 'bomb.zip'), zipOf('GHSA-test.json', bomb, 100));
    expect(() => loadOsv(join(dir, 'bomb.zip'))).toThrow(/bomb\.zip: not a valid ZIP archive: GHSA-test\.json: /);
  });

  it('the same record in an honest ZIP loads', () => {
    const dir = tempDir('rampart-zip-');
    writeFileSync(join(dir, 'ok.zip'), zipOf('GHSA-test.json', Buffer.from(JSON.stringify(RECORD))));
    expect([...loadOsv(join(dir, 'ok.zip')).records.keys()]).toEqual(['GHSA-test']);
  });

  it('entry names with ../ are only names: nothing is written to disk', () => {
    const dir = tempDir('rampart-zip-');
    writeFileSync(join(dir, 'evil.zip'), zipOf('../../etc/GHSA-test.json', Buffer.from(JSON.stringify(RECORD))));
    const db = loadOsv(join(dir, 'evil.zip'));
    expect(db.records.has('GHSA-test')).toBe(true);
  });
});

describe('hostile lockfiles and records', () => {
  it('__proto__ keys in a lockfile neither crash the parser nor pollute prototypes', () => {
    const dir = tempDir('rampart-proto-');
    writeFileSync(
      join(dir, 'package-lock.json'),
      '{"lockfileVersion":3,"packages":{"":{"dependencies":{"__proto__":"1"}},"node_modules/__proto__":{"version":"1.0.0","dependencies":{"constructor":"1"}}}}',
    );
    const g = parseLockfile(join(dir, 'package-lock.json'));
    expect([...g.packages.keys()]).toEqual(['__proto__@1.0.0']);
    expect(({} as Record<string, unknown>).version).toBeUndefined();
  });

  it('an OSV record with a non-string event version is rejected, a well-formed one accepted', () => {
    expect(() => checkOsvRecord('x.json', { ...RECORD, affected: [{ ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: { $gt: '' } }] }] }] })).toThrow(
      'x.json: affected[0].ranges[0].events[0].introduced: expected a string',
    );
    expect(checkOsvRecord('x.json', RECORD).id).toBe('GHSA-test');
  });
});

describe('reports never carry markup from advisory data', () => {
  it('HTML escapes summaries, names and ids; ordinary text still reads the same', () => {
    const dir = tempDir('rampart-html-');
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: { '': { dependencies: { 'left-pad': '1' } }, 'node_modules/left-pad': { version: '1.0.0' } } }));
    const hostile = { ...RECORD, id: 'GHSA-<b>x</b>', summary: '<script>alert(1)</script> & "quotes"' };
    const db = new AdvisoryDatabase([hostile]);
    const html = renderReport(auditGraphs([parseLockfile(join(dir, 'package-lock.json'))], db), 'html', 'test');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('href="https://osv.dev/vulnerability/GHSA-%3Cb%3Ex%3C%2Fb%3E"');
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"");
  });
});
