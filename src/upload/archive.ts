/**
 * Archive inspection without extracting to disk: zip (central directory, then every entry inflated
 * and counted in memory, never stored), gzip (inflated and counted) and tar (headers walked,
 * also inside gzip). Bounds entry count, total uncompressed size, compression ratio, nesting depth,
 * overlapping entries (non-recursive zip bombs) and entry names (zip slip).
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { createGunzip, createInflateRaw } from 'node:zlib';

export interface ArchiveLimits {
  /** Most entries in one archive, nested archives included. */
  readonly maxEntries: number;
  /** Most bytes all entries may inflate to, over every nesting level. */
  readonly maxUncompressedBytes: number;
  /** Largest inflated/compressed ratio for an entry past 1 MiB of output. */
  readonly maxRatio: number;
  /** Archive levels allowed: 1 means an archive may not contain another archive. */
  readonly maxDepth: number;
  /** Accept password-protected entries (their content cannot be inspected or scanned). */
  readonly allowEncrypted: boolean;
}

/** An archive was refused; `reason` names the rule for events (never file content). */
export class ArchiveViolation extends Error {
  constructor(readonly rule: 'entries' | 'size' | 'ratio' | 'depth' | 'path' | 'encrypted' | 'unsupported' | 'malformed' | 'overlap', reason: string) {
    super(reason);
    this.name = 'ArchiveViolation';
  }
}

export interface ArchiveReport {
  readonly entries: number;
  readonly uncompressedBytes: number;
  /** Deepest nesting seen (1 = a flat archive). */
  readonly depth: number;
}

/** Random access to an archive's bytes: a spooled file or an inflated nested archive in memory. */
interface Source {
  readonly size: number;
  read(position: number, length: number): Promise<Buffer>;
  stream(start: number, end: number): Readable;
}

/** Below this much output, a high ratio is normal (a small text file of spaces): not a bomb. */
const RATIO_FLOOR = 1024 * 1024;
/** A central directory larger than this is itself an attack on the parser. */
const MAX_CENTRAL_DIRECTORY = 16 * 1024 * 1024;

/** Which archive format `mime` is, if Rampart inspects it. */
export function archiveKind(mime: string): 'zip' | 'gzip' | 'tar' | undefined {
  if (mime === 'application/zip' || mime === 'application/java-archive' || mime.startsWith('application/vnd.openxmlformats') || mime === 'application/epub+zip' || mime.startsWith('application/vnd.oasis.opendocument')) return 'zip';
  if (mime === 'application/gzip') return 'gzip';
  if (mime === 'application/x-tar') return 'tar';
  return undefined;
}

/**
 * Inspects the archive in the file at `path`; throws {@link ArchiveViolation} when a limit is crossed.
 *
 * @example
 *   await inspectArchive('/tmp/upload', 'zip', { maxEntries: 1000, maxUncompressedBytes: 100e6, maxRatio: 100, maxDepth: 1, allowEncrypted: false })
 */
export async function inspectArchive(path: string, kind: 'zip' | 'gzip' | 'tar', limits: ArchiveLimits): Promise<ArchiveReport> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const source: Source = {
      size,
      async read(position, length) {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, position);
        return buf.subarray(0, bytesRead);
      },
      // Each stream opens the file itself: sharing the handle's fd lets a destroyed stream close it.
      stream: (start, end) => (end > start ? createReadStream(path, { start, end: end - 1 }) : Readable.from([])),
    };
    const budget = new Budget(limits);
    await inspect(source, kind, 1, budget);
    return { entries: budget.entries, uncompressedBytes: budget.bytes, depth: budget.depth };
  } finally {
    await fh.close();
  }
}

/** Counters shared by every nesting level of one upload. */
class Budget {
  entries = 0;
  bytes = 0;
  depth = 1;
  constructor(readonly limits: ArchiveLimits) {}

  entry(name: string): void {
    if (++this.entries > this.limits.maxEntries) throw new ArchiveViolation('entries', `more than ${this.limits.maxEntries} entries`);
    const bad = unsafeEntryName(name);
    if (bad !== undefined) throw new ArchiveViolation('path', `entry name ${JSON.stringify(name.slice(0, 120))}: ${bad}`);
  }

  inflated(n: number, entryOut: number, entryIn: number): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxUncompressedBytes) throw new ArchiveViolation('size', `inflates past ${this.limits.maxUncompressedBytes} bytes`);
    if (entryOut > RATIO_FLOOR && entryOut > entryIn * this.limits.maxRatio) throw new ArchiveViolation('ratio', `compression ratio above ${this.limits.maxRatio}`);
  }
}

/**
 * Why an entry name would escape the extraction directory or trick a tool (zip slip), or undefined.
 *
 * @example
 *   unsafeEntryName('../../etc/passwd') // 'traversal'
 *   unsafeEntryName('docs/readme.txt')   // undefined
 */
export function unsafeEntryName(name: string): string | undefined {
  if (name === '') return 'empty';
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'control character';
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) return 'absolute path';
  if (name.split(/[/\\]/).includes('..')) return 'traversal';
  return undefined;
}

async function inspect(source: Source, kind: 'zip' | 'gzip' | 'tar', depth: number, budget: Budget): Promise<void> {
  if (depth > budget.limits.maxDepth) throw new ArchiveViolation('depth', `archives nested deeper than ${budget.limits.maxDepth}`);
  budget.depth = Math.max(budget.depth, depth);
  if (kind === 'zip') await inspectZip(source, depth, budget);
  else if (kind === 'gzip') await inspectGzip(source, depth, budget);
  else await walkTar(source.stream(0, source.size), budget, depth);
}

interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

async function inspectZip(source: Source, depth: number, budget: Budget): Promise<void> {
  const entries = await readCentralDirectory(source, budget.limits.maxEntries - budget.entries);
  let declared = 0;
  for (const e of entries) {
    budget.entry(e.name);
    if ((e.flags & 1) !== 0 && !budget.limits.allowEncrypted) throw new ArchiveViolation('encrypted', 'password-protected entry');
    if (e.method !== 0 && e.method !== 8) throw new ArchiveViolation('unsupported', `compression method ${e.method} cannot be inspected`);
    declared += e.size;
    if (budget.bytes + declared > budget.limits.maxUncompressedBytes) throw new ArchiveViolation('size', `declares more than ${budget.limits.maxUncompressedBytes} bytes`);
    if (e.size > RATIO_FLOOR && e.size > e.compressedSize * budget.limits.maxRatio) throw new ArchiveViolation('ratio', `declared compression ratio above ${budget.limits.maxRatio}`);
  }
  // Entries whose data overlap re-use one compressed stream many times (a non-recursive zip bomb).
  const ranges: Array<{ entry: ZipEntry; start: number; end: number }> = [];
  for (const e of entries) {
    const local = await source.read(e.localOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw new ArchiveViolation('malformed', 'bad local header');
    const start = e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const end = start + e.compressedSize;
    if (end > source.size) throw new ArchiveViolation('malformed', 'entry data past the end of the archive');
    ranges.push({ entry: e, start, end });
  }
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.start < sorted[i - 1]!.end) throw new ArchiveViolation('overlap', 'entries share compressed data');
  }
  for (const { entry, start, end } of ranges) {
    if (entry.name.endsWith('/') && entry.size === 0) continue;
    const raw = source.stream(start, end);
    const data = entry.method === 8 ? raw.pipe(createInflateRaw()) : raw;
    await consumeEntry(data, entry.compressedSize, entry.size, depth, budget);
  }
}

/**
 * Inflates one entry, counting its real size (headers can lie), and recurses into it when it is
 * itself an archive.
 */
async function consumeEntry(data: Readable, compressed: number, declaredSize: number | undefined, depth: number, budget: Budget): Promise<void> {
  let out = 0;
  let nested: 'zip' | 'gzip' | 'tar' | undefined;
  let head: Buffer | undefined;
  const kept: Buffer[] = [];
  try {
    for await (const chunk of data as AsyncIterable<Buffer>) {
      out += chunk.length;
      budget.inflated(chunk.length, out, compressed);
      if (declaredSize !== undefined && out > declaredSize) throw new ArchiveViolation('size', 'entry inflates past its declared size');
      if (head === undefined) {
        head = chunk;
        nested = sniffArchive(chunk);
        if (nested !== undefined && depth + 1 > budget.limits.maxDepth) throw new ArchiveViolation('depth', `archives nested deeper than ${budget.limits.maxDepth}`);
      }
      // Nested archives are kept in memory to recurse; the size budget above bounds them.
      if (nested !== undefined) kept.push(chunk);
    }
  } catch (err) {
    data.destroy();
    if (err instanceof ArchiveViolation) throw err;
    throw new ArchiveViolation('malformed', `entry could not be inflated: ${(err as Error).message}`);
  }
  if (nested !== undefined) {
    const buf = Buffer.concat(kept);
    await inspect(bufferSource(buf), nested, depth + 1, budget);
  }
}

function sniffArchive(head: Buffer): 'zip' | 'gzip' | 'tar' | undefined {
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  return undefined;
}

function bufferSource(buf: Buffer): Source {
  return {
    size: buf.length,
    read: (position, length) => Promise.resolve(buf.subarray(position, position + length)),
    stream: (start, end) => Readable.from([buf.subarray(start, end)]),
  };
}

async function readCentralDirectory(source: Source, maxEntries: number): Promise<ZipEntry[]> {
  const tailLength = Math.min(source.size, 22 + 65_535);
  const tail = await source.read(source.size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw new ArchiveViolation('malformed', 'no end of central directory');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locatorAt = source.size - tailLength + eocd - 20;
    const locator = await source.read(locatorAt, 20);
    if (locator.length < 20 || locator.readUInt32LE(0) !== 0x07064b50) throw new ArchiveViolation('malformed', 'bad zip64 locator');
    const z64 = await source.read(Number(locator.readBigUInt64LE(8)), 56);
    if (z64.length < 56 || z64.readUInt32LE(0) !== 0x06064b50) throw new ArchiveViolation('malformed', 'bad zip64 end record');
    count = Number(z64.readBigUInt64LE(32));
    cdSize = Number(z64.readBigUInt64LE(40));
    cdOffset = Number(z64.readBigUInt64LE(48));
  }
  if (count > maxEntries) throw new ArchiveViolation('entries', `declares ${count} entries`);
  if (cdSize > MAX_CENTRAL_DIRECTORY || cdOffset + cdSize > source.size) throw new ArchiveViolation('malformed', 'central directory out of bounds');
  const cd = await source.read(cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new ArchiveViolation('malformed', 'bad central directory entry');
    const flags = cd.readUInt16LE(p + 8);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
    const entry: ZipEntry = {
      name: nameBytes.toString((flags & 0x800) !== 0 ? 'utf8' : 'latin1'),
      flags,
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localOffset: cd.readUInt32LE(p + 42),
    };
    readZip64Extra(cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength), entry);
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Fields saturated at 0xFFFFFFFF are given in the zip64 extra field, in this order. */
function readZip64Extra(extra: Buffer, entry: ZipEntry): void {
  let q = 0;
  while (q + 4 <= extra.length) {
    const id = extra.readUInt16LE(q);
    const len = extra.readUInt16LE(q + 2);
    if (id === 0x0001) {
      let r = q + 4;
      const next = (): number => {
        if (r + 8 > q + 4 + len) throw new ArchiveViolation('malformed', 'short zip64 extra field');
        const v = Number(extra.readBigUInt64LE(r));
        r += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localOffset === 0xffffffff) entry.localOffset = next();
      return;
    }
    q += 4 + len;
  }
}

async function inspectGzip(source: Source, depth: number, budget: Budget): Promise<void> {
  budget.entry('gzip-member');
  const inflated = source.stream(0, source.size).pipe(createGunzip());
  // A gzip holding a tar is one archive level (a .tar.gz), not two.
  const [probe, rest] = await peek(inflated, 512);
  if (probe.length >= 262 && probe.toString('latin1', 257, 262) === 'ustar') {
    await walkTar(rest, budget, depth, source.size);
    return;
  }
  await consumeEntry(rest, source.size, undefined, depth, budget);
}

/** Reads at least `n` bytes from a stream and returns them with a stream that replays everything. */
async function peek(stream: Readable, n: number): Promise<[Buffer, Readable]> {
  const chunks: Buffer[] = [];
  let got = 0;
  const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    while (got < n) {
      const r = await it.next();
      if (r.done === true) break;
      chunks.push(r.value);
      got += r.value.length;
    }
  } catch (err) {
    throw new ArchiveViolation('malformed', `could not be inflated: ${(err as Error).message}`);
  }
  async function* replay(): AsyncGenerator<Buffer> {
    yield* chunks;
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
  }
  return [Buffer.concat(chunks), Readable.from(replay())];
}

/**
 * Walks tar headers (ustar/pax/GNU) streaming: entry names and count checked, sizes counted; file
 * contents skipped (nested archives in a tar are refused past the depth limit by their header name).
 */
async function walkTar(stream: Readable, budget: Budget, depth: number, compressed = Number.POSITIVE_INFINITY): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let skip = 0;
  let out = 0;
  let longName: string | undefined;
  let ended = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      out += chunk.length;
      budget.inflated(chunk.length, out, compressed);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (!ended) {
        if (skip > 0) {
          const n = Math.min(skip, pending.length);
          skip -= n;
          pending = pending.subarray(n);
          if (skip > 0) break;
        }
        if (pending.length < 512) break;
        const header = pending.subarray(0, 512);
        pending = pending.subarray(512);
        if (header.every((b) => b === 0)) {
          ended = true;
          break;
        }
        const type = String.fromCharCode(header[156]!);
        const size = parseOctal(header.subarray(124, 136));
        const padded = Math.ceil(size / 512) * 512;
        if (type === 'L' || type === 'x') {
          // GNU long name / pax header: the name is in the data; read it when it is small.
          if (size > 64 * 1024) throw new ArchiveViolation('malformed', 'oversized tar extended header');
          if (pending.length < padded) {
            pending = Buffer.concat([header, pending]);
            break;
          }
          const data = pending.subarray(0, size).toString('utf8');
          pending = pending.subarray(padded);
          longName = type === 'L' ? data.replace(/\0.*$/s, '') : (/\d+ path=([^\n]*)\n/.exec(data)?.[1] ?? longName);
          continue;
        }
        const prefix = header.toString('latin1', 257, 262) === 'ustar' ? cString(header.subarray(345, 500)) : '';
        const name = longName ?? (prefix !== '' ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
        longName = undefined;
        budget.entry(name);
        if ((type === '1' || type === '2') && unsafeEntryName(cString(header.subarray(157, 257))) !== undefined) {
          throw new ArchiveViolation('path', `link ${JSON.stringify(name.slice(0, 120))} points outside the archive`);
        }
        if (/\.(?:zip|jar|gz|tgz|tar|7z|rar|xz|bz2)$/i.test(name) && depth + 1 > budget.limits.maxDepth) {
          throw new ArchiveViolation('depth', `archives nested deeper than ${budget.limits.maxDepth}`);
        }
        skip = padded;
      }
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof ArchiveViolation) throw err;
    throw new ArchiveViolation('malformed', `tar could not be read: ${(err as Error).message}`);
  }
  if (!ended && (skip > 0 || pending.length > 0)) throw new ArchiveViolation('malformed', 'truncated tar');
}

function cString(b: Buffer): string {
  const z = b.indexOf(0);
  return b.toString('utf8', 0, z === -1 ? b.length : z);
}

function parseOctal(b: Buffer): number {
  const s = cString(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new ArchiveViolation('malformed', 'bad tar size field');
  return parseInt(s, 8);
}
