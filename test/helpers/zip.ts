/**
 * A minimal zip writer for tests (stored or deflated entries, optional lies in the directory), so
 * the archive tests build their bombs, slips and nests here instead of shipping binary fixtures.
 */
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';

export interface ZipEntryInput {
  name: string;
  data: Buffer;
  /** Default: deflate. */
  method?: 'store' | 'deflate';
  /** Size written in the central directory instead of the real one (a lying header). */
  declaredSize?: number;
}

/**
 * Builds a zip archive.
 *
 * @example
 *   makeZip([{ name: 'a.txt', data: Buffer.from('hi') }])
 */
export function makeZip(entries: ZipEntryInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method === 'store' ? 0 : 8;
    const body = method === 8 ? deflateRawSync(e.data) : e.data;
    const crc = crc32(e.data);
    const size = e.declaredSize ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/**
 * A 42.zip-style recursive bomb: `levels` of zips, each holding `fanout` copies of the level below,
 * the innermost holding `fanout` files of `leafBytes` zero bytes.
 */
export function recursiveBomb(levels: number, fanout: number, leafBytes: number): Buffer {
  const leaf = Buffer.alloc(leafBytes);
  let layer = makeZip(Array.from({ length: fanout }, (_, i) => ({ name: `${i}.bin`, data: leaf })));
  for (let l = 1; l < levels; l++) {
    const inner = layer;
    layer = makeZip(Array.from({ length: fanout }, (_, i) => ({ name: `${l}-${i}.zip`, data: inner })));
  }
  return layer;
}

/** A one-file tar (ustar) with `name`, optionally gzipped. */
export function makeTar(files: Array<{ name: string; data: Buffer }>, gzip = false): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${f.data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  return gzip ? gzipSync(tar) : tar;
}
