/**
 * A small ZIP reader (stored and deflate entries, ZIP64) over node:zlib, for the per-ecosystem
 * `all.zip` archives osv.dev publishes. It never writes to disk, so entry names cannot escape
 * anywhere; sizes are capped and CRCs checked so a damaged or hostile archive fails clearly.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { AuditInputError } from '../errors.js';

export interface ZipEntry {
  name: string;
  /** Inflates the entry (checked against its CRC-32 and `maxBytes`). */
  read(): Buffer;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * Lists the entries of a ZIP archive held in memory.
 *
 * @example
 * for (const entry of readZip('npm.zip', readFileSync('npm.zip'), 16 << 20)) console.log(entry.name, entry.read().length);
 */
export function readZip(file: string, buf: Buffer, maxBytes: number): ZipEntry[] {
  const fail = (problem: string): never => {
    throw new AuditInputError(file, `not a valid ZIP archive: ${problem}`);
  };
  const u16 = (at: number): number => (at + 2 <= buf.length ? buf.readUInt16LE(at) : fail('truncated'));
  const u32 = (at: number): number => (at + 4 <= buf.length ? buf.readUInt32LE(at) : fail('truncated'));
  const u64 = (at: number): number => {
    const v = at + 8 <= buf.length ? buf.readBigUInt64LE(at) : fail('truncated');
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? fail('size out of range') : Number(v);
  };

  // The end record sits in the last 22 bytes plus up to 64 KiB of comment.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end of central directory record');
  let count = u16(eocd + 10);
  let cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || u32(locator) !== ZIP64_LOCATOR) fail('missing ZIP64 locator');
    const z64 = u64(locator + 8);
    if (u32(z64) !== ZIP64_EOCD) fail('bad ZIP64 end record');
    count = u64(z64 + 32);
    cdOffset = u64(z64 + 48);
  }

  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let n = 0; n < count; n++) {
    if (u32(at) !== CENTRAL) fail(`bad central directory entry ${n}`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressed = u32(at + 20);
    let size = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    let local = u32(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    // ZIP64 extra field: the 64-bit values, in this order, for each 32-bit field that overflowed.
    for (let x = at + 46 + nameLen; x + 4 <= at + 46 + nameLen + extraLen; ) {
      const id = u16(x);
      const len = u16(x + 2);
      if (id === 0x0001) {
        let p = x + 4;
        if (size === 0xffffffff) {
          size = u64(p);
          p += 8;
        }
        if (compressed === 0xffffffff) {
          compressed = u64(p);
          p += 8;
        }
        if (local === 0xffffffff) local = u64(p);
      }
      x += 4 + len;
    }
    at += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    entries.push({
      name,
      read(): Buffer {
        if ((flags & 1) !== 0) fail(`${name} is encrypted`);
        if (size > maxBytes) fail(`${name} is larger than ${maxBytes} bytes`);
        if (u32(local) !== LOCAL) fail(`bad local header for ${name}`);
        const start = local + 30 + u16(local + 26) + u16(local + 28);
        if (start + compressed > buf.length) fail(`${name} is truncated`);
        const raw = buf.subarray(start, start + compressed);
        let data: Buffer;
        if (method === 0) data = raw;
        else if (method === 8) {
          try {
            data = inflateRawSync(raw, { maxOutputLength: Math.max(size, 1) });
          } catch (err) {
            return fail(`${name}: ${(err as Error).message}`);
          }
        } else return fail(`${name} uses unsupported compression method ${method}`);
        if (data.length !== size || crc32(data) !== crc) fail(`${name} fails its CRC-32 check`);
        return data;
      },
    });
  }
  return entries;
}
