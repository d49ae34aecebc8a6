import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectArchive, type ArchiveLimits } from '../../src/upload/archive.js';
import { tempDir } from '../helpers/gateway.js';
import { makeTar, makeZip, recursiveBomb } from '../helpers/zip.js';

const LIMITS: ArchiveLimits = { maxEntries: 100, maxUncompressedBytes: 50 * 1024 * 1024, maxRatio: 100, maxDepth: 1, allowEncrypted: false };
const dir = tempDir('rampart-archive-');
let n = 0;
function file(buf: Buffer): string {
  const p = join(dir, `a${n++}`);
  writeFileSync(p, buf);
  return p;
}

describe('zip inspection', () => {
  it('accepts an ordinary zip and reports it', async () => {
    const zip = makeZip([{ name: 'docs/readme.txt', data: Buffer.from('hello '.repeat(100)) }, { name: 'data.bin', data: Buffer.from([1, 2, 3]), method: 'store' }]);
    await expect(inspectArchive(file(zip), 'zip', LIMITS)).resolves.toEqual({ entries: 2, uncompressedBytes: 603, depth: 1 });
  });

  it('refuses zip slip entry names', async () => {
    for (const name of ['../../etc/passwd', '/etc/cron.d/x', 'a/../../b', 'C:\\Windows\\x.dll', '..\\evil']) {
      await expect(inspectArchive(file(makeZip([{ name, data: Buffer.from('x') }])), 'zip', LIMITS)).rejects.toMatchObject({ rule: 'path' });
    }
  });

  it('refuses a high compression ratio (declared and real)', async () => {
    const zeros = Buffer.alloc(20 * 1024 * 1024);
    await expect(inspectArchive(file(makeZip([{ name: 'zeros', data: zeros }])), 'zip', LIMITS)).rejects.toMatchObject({ rule: 'ratio' });
    // The directory lies (says 10 bytes): the real inflated size is counted and refused.
    await expect(inspectArchive(file(makeZip([{ name: 'zeros', data: zeros, declaredSize: 10 }])), 'zip', LIMITS)).rejects.toMatchObject({ rule: expect.stringMatching(/ratio|size/) });
  });

  it('refuses more than the total uncompressed budget', async () => {
    const random = Buffer.alloc(2 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const entries = Array.from({ length: 30 }, (_, i) => ({ name: `${i}.txt`, data: random }));
    await expect(inspectArchive(file(makeZip(entries)), 'zip', { ...LIMITS, maxRatio: 10_000 })).rejects.toMatchObject({ rule: 'size' });
  });

  it('refuses too many entries', async () => {
    const entries = Array.from({ length: 101 }, (_, i) => ({ name: `${i}`, data: Buffer.from('x') }));
    await expect(inspectArchive(file(makeZip(entries)), 'zip', LIMITS)).rejects.toMatchObject({ rule: 'entries' });
  });

  it('refuses a nested archive at depth 1 and allows it at depth 2', async () => {
    const inner = makeZip([{ name: 'a.txt', data: Buffer.from('inner') }]);
    const outer = file(makeZip([{ name: 'inner.zip', data: inner }]));
    await expect(inspectArchive(outer, 'zip', LIMITS)).rejects.toMatchObject({ rule: 'depth' });
    await expect(inspectArchive(outer, 'zip', { ...LIMITS, maxDepth: 2 })).resolves.toMatchObject({ entries: 2, depth: 2 });
  });

  it('refuses a 42.zip-style recursive bomb at its first nested entry, and by size when deep nesting is allowed', async () => {
    const bomb = file(recursiveBomb(4, 16, 8 * 1024 * 1024));
    await expect(inspectArchive(bomb, 'zip', LIMITS)).rejects.toMatchObject({ rule: 'depth' });
    await expect(inspectArchive(bomb, 'zip', { ...LIMITS, maxDepth: 5 })).rejects.toMatchObject({ rule: expect.stringMatching(/ratio|size/) });
  });

  it('refuses overlapping entries (non-recursive bomb)', async () => {
    const zip = makeZip([{ name: 'a', data: Buffer.from('same data') }]);
    // Duplicate the central directory record so two entries point at the same compressed data.
    const eocd = zip.length - 22;
    const cdSize = zip.readUInt32LE(eocd + 12);
    const cdOffset = zip.readUInt32LE(eocd + 16);
    const cd = zip.subarray(cdOffset, cdOffset + cdSize);
    const end = Buffer.from(zip.subarray(eocd));
    end.writeUInt16LE(2, 8);
    end.writeUInt16LE(2, 10);
    end.writeUInt32LE(cdSize * 2, 12);
    const twice = Buffer.concat([zip.subarray(0, cdOffset), cd, cd, end]);
    await expect(inspectArchive(file(twice), 'zip', LIMITS)).rejects.toMatchObject({ rule: 'overlap' });
  });

  it('accepts empty entries and directories', async () => {
    const zip = makeZip([{ name: 'dir/', data: Buffer.alloc(0), method: 'store' }, { name: 'dir/empty', data: Buffer.alloc(0), method: 'store' }]);
    await expect(inspectArchive(file(zip), 'zip', LIMITS)).resolves.toMatchObject({ entries: 2 });
  });

  it('refuses encrypted entries and truncated archives', async () => {
    const zip = makeZip([{ name: 'secret', data: Buffer.from('x') }]);
    const enc = Buffer.from(zip);
    enc.writeUInt16LE(0x801, zip.readUInt32LE(zip.length - 6) + 8);
    await expect(inspectArchive(file(enc), 'zip', LIMITS)).rejects.toMatchObject({ rule: 'encrypted' });
    await expect(inspectArchive(file(zip.subarray(0, zip.length - 30)), 'zip', LIMITS)).rejects.toMatchObject({ rule: 'malformed' });
  });
});

describe('gzip and tar inspection', () => {
  it('accepts a tar.gz and walks its names', async () => {
    const tgz = makeTar([{ name: 'a/b.txt', data: Buffer.from('hello') }], true);
    await expect(inspectArchive(file(tgz), 'gzip', LIMITS)).resolves.toMatchObject({ entries: 2 });
  });

  it('refuses traversal in tar names', async () => {
    await expect(inspectArchive(file(makeTar([{ name: '../../etc/passwd', data: Buffer.from('x') }])), 'tar', LIMITS)).rejects.toMatchObject({ rule: 'path' });
    await expect(inspectArchive(file(makeTar([{ name: '../x', data: Buffer.from('x') }], true)), 'gzip', LIMITS)).rejects.toMatchObject({ rule: 'path' });
  });

  it('refuses a gzip bomb', async () => {
    const { gzipSync } = await import('node:zlib');
    await expect(inspectArchive(file(gzipSync(Buffer.alloc(60 * 1024 * 1024))), 'gzip', LIMITS)).rejects.toMatchObject({ rule: expect.stringMatching(/ratio|size/) });
  });
});
