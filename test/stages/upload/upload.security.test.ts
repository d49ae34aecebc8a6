/**
 * The upload stage end to end: a real gateway (listeners on port 0), a recording upstream, and a
 * real clamd started for this file. Every attack has its legitimate twin.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../../src/server/gateway.js';
import type { SecurityEvent } from '../../../src/core/events.js';
import { call, tempDir, TEST_LISTENERS } from '../../helpers/gateway.js';
import { EICAR, startClamd, TEST_MALWARE, type TestClamd } from '../../helpers/clamd.js';
import { GIF, JPEG, multipart, pdf, png, type Part } from '../../helpers/files.js';
import { makeZip, recursiveBomb } from '../../helpers/zip.js';

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let clamd: TestClamd;
let upstream: Server;
let gateway: Gateway;
let base: string;
let dir: string;
const received: Received[] = [];
const events: SecurityEvent[] = [];

beforeAll(async () => {
  clamd = await startClamd();
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"stored":true}');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const up = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  dir = tempDir('rampart-upload-e2e-');
  const images = 'allow: [image/png, image/jpeg, image/gif, image/webp]';
  const route = (id: string, stage: string, extra = ''): string => `
  - id: ${id}
    path: /${id}
    methods: [POST]
    upstream: rec
    limits: { maxBodyBytes: 4194304 }
    stages:
      - type: upload
        ${stage}${extra}`;
  writeFileSync(
    join(dir, 'rampart.yaml'),
    `${TEST_LISTENERS}
upstreams:
  rec: { url: "${up}" }
routes:${route('photos', images, `
        maxFileBytes: 1048576
        maxFiles: 2
        tempDir: spool
        quarantineDir: quarantine
        scan: { clamd: "${clamd.tcp}", timeoutMs: 5000 }`)}${route('files', "allow: ['*/*']", `
        archives: { maxDepth: 1, maxUncompressedBytes: 20971520 }
        scan: { clamd: "${clamd.unix}", timeoutMs: 5000 }`)}${route('down', images, `
        scan: { clamd: "tcp://127.0.0.1:1", timeoutMs: 2000 }`)}${route('failopen', images, `
        scan: { clamd: "tcp://127.0.0.1:1", timeoutMs: 2000, onUnavailable: allow }`)}${route('small', images, `
        maxFileBytes: 65536
        raw: true`)}
`,
  );
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) {
        if (line.includes('"security event"')) events.push((JSON.parse(line) as { event: SecurityEvent }).event);
      }
      cb();
    },
  });
  gateway = await Gateway.start({ configFile: join(dir, 'rampart.yaml'), watch: false, logger: pino({ level: 'info' }, sink) });
  base = `https://127.0.0.1:${gateway.ports.https}`;
});

afterAll(async () => {
  await gateway?.stop();
  await new Promise<void>((r) => upstream?.close(() => r()));
  await clamd?.stop();
});

beforeEach(() => {
  received.length = 0;
  events.length = 0;
});

async function post(path: string, parts: Part[]): Promise<{ status: number; body: Record<string, unknown>; sent: Buffer }> {
  const { body, contentType } = multipart(parts);
  const res = await call(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, body: res.text === '' ? {} : res.json(), sent: body };
}

/** Events are emitted when the response completes; wait for the one we expect. */
async function eventOf(type: string): Promise<SecurityEvent> {
  for (let i = 0; i < 100; i++) {
    const e = events.find((x) => x.type === type);
    if (e !== undefined) return e;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no ${type} event; got ${events.map((e) => e.type).join(', ')}`);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('legitimate uploads pass, byte for byte', () => {
  it('forwards a real PNG and JPEG multipart body exactly as sent', async () => {
    const image = png(64, 64);
    const r = await post('/photos', [
      { name: 'caption', data: 'my cat' },
      { name: 'photo', filename: 'cat.png', type: 'image/png', data: image },
      { name: 'thumb', filename: 'cat.jpg', type: 'image/jpeg', data: JPEG },
    ]);
    expect(r.status).toBe(201);
    expect(received).toHaveLength(1);
    expect(received[0]!.body.equals(r.sent)).toBe(true);
    expect(received[0]!.headers['content-length']).toBe(String(r.sent.length));
    const e = await eventOf('upload.accepted');
    expect(e.data).toMatchObject({ scan: 'clean', files: [{ filename: 'cat.png', type: 'image/png', sha256: sha(image) }, { type: 'image/jpeg' }] });
  });

  it('forwards a raw image body and a PDF on an open route', async () => {
    const res = await call(`${base}/photos`, { method: 'POST', headers: { 'content-type': 'image/gif' }, body: GIF });
    expect(res.status).toBe(201);
    expect(received[0]!.body.equals(GIF)).toBe(true);
    const doc = pdf();
    const r = await post('/files', [{ name: 'doc', filename: 'report.pdf', type: 'application/pdf', data: doc }]);
    expect(r.status).toBe(201);
    expect(received[1]!.body.equals(r.sent)).toBe(true);
  });

  it('leaves no temporary files behind, accepted or refused', async () => {
    await post('/photos', [{ name: 'p', filename: 'a.png', type: 'image/png', data: png() }]);
    await post('/photos', [{ name: 'p', filename: 'a.png', type: 'image/png', data: EICAR }]);
    await eventOf('upload.rejected');
    // Directories are removed when the response completes, just after the client has it.
    for (let i = 0; i < 100 && readdirSync(join(dir, 'spool')).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(join(dir, 'spool'))).toEqual([]);
  });
});

describe('malware through a real clamd', () => {
  it('catches EICAR as a file, inside a zip, and our own pattern', async () => {
    let r = await post('/files', [{ name: 'f', filename: 'eicar.txt', type: 'text/plain', data: EICAR }]);
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('RAMPART_UPLOAD_MALWARE');
    const e = await eventOf('upload.malware');
    expect(e.data).toMatchObject({ threat: 'Rampart.Test.EICAR.UNOFFICIAL', sha256: sha(Buffer.from(EICAR)) });
    r = await post('/files', [{ name: 'f', filename: 'docs.zip', type: 'application/zip', data: makeZip([{ name: 'readme.txt', data: Buffer.from(EICAR) }]) }]);
    expect(r.body.code).toBe('RAMPART_UPLOAD_MALWARE');
    r = await post('/files', [{ name: 'f', filename: 'x.bin', type: 'application/octet-stream', data: Buffer.concat([pdf(), Buffer.from(TEST_MALWARE)]) }]);
    expect(r.body.code).toBe('RAMPART_UPLOAD_MALWARE');
    expect(received).toHaveLength(0);
  });

  it('catches EICAR riding on a real PNG (passes the type checks, clamd finds it)', async () => {
    const r = await post('/photos', [{ name: 'photo', filename: 'cat.png', type: 'image/png', data: Buffer.concat([png(), Buffer.from(EICAR)]) }]);
    expect(r.body).toMatchObject({ code: 'RAMPART_UPLOAD_MALWARE', status: 422 });
    expect((await eventOf('upload.malware')).severity).toBe('high');
    expect(received).toHaveLength(0);
  });

  it('catches EICAR hidden in a plain form field', async () => {
    const r = await post('/files', [{ name: 'comment', data: EICAR }]);
    expect(r.body.code).toBe('RAMPART_UPLOAD_MALWARE');
    expect(received).toHaveLength(0);
  });

  it('refuses EICAR renamed to .jpg on the image route, and quarantines it with an id in the event', async () => {
    const r = await post('/photos', [{ name: 'photo', filename: 'cat.jpg', type: 'image/jpeg', data: EICAR }]);
    expect(r.status).toBe(415);
    expect(r.body.code).toBe('RAMPART_UPLOAD_TYPE_NOT_ALLOWED');
    const e = await eventOf('upload.rejected');
    const id = e.data?.quarantineId as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(readFileSync(join(dir, 'quarantine', id), 'latin1')).toBe(EICAR);
    expect(JSON.parse(readFileSync(join(dir, 'quarantine', `${id}.json`), 'utf8'))).toMatchObject({ code: 'RAMPART_UPLOAD_TYPE_NOT_ALLOWED', filename: 'cat.jpg' });
    expect(received).toHaveLength(0);
  });
});

describe('types, names and active content', () => {
  it('refuses a declared type that contradicts the content', async () => {
    const r = await post('/photos', [{ name: 'photo', filename: 'cat.png', type: 'image/jpeg', data: png() }]);
    expect(r.status).toBe(415);
    expect(r.body.code).toBe('RAMPART_UPLOAD_TYPE_MISMATCH');
    expect(received).toHaveLength(0);
  });

  it('refuses an SVG with script where images are expected', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><script>alert(1)</script></svg>';
    const r = await post('/photos', [{ name: 'photo', filename: 'cat.png', type: 'image/png', data: svg }]);
    expect(r.status).toBe(415);
    expect(r.body.code).toBe('RAMPART_UPLOAD_TYPE_NOT_ALLOWED');
    const open = await post('/files', [{ name: 'photo', filename: 'cat.svg', type: 'image/svg+xml', data: svg }]);
    expect(open.status).toBe(422);
    expect(open.body.code).toBe('RAMPART_UPLOAD_ACTIVE_CONTENT');
    expect(received).toHaveLength(0);
  });

  it('refuses an image polyglot', async () => {
    const r = await post('/photos', [{ name: 'photo', filename: 'cat.gif', type: 'image/gif', data: Buffer.concat([GIF, Buffer.from('<script>alert(1)</script>')]) }]);
    expect(r.body.code).toBe('RAMPART_UPLOAD_ACTIVE_CONTENT');
  });

  it('refuses a file name with a NUL byte', async () => {
    const r = await post('/photos', [{ name: 'photo', filename: 'a.php\u0000.jpg', type: 'image/png', data: png() }]);
    // busboy already refuses the NUL in the part header; either way nothing is forwarded.
    expect(['RAMPART_UPLOAD_BAD_FILENAME', 'RAMPART_UPLOAD_MALFORMED']).toContain(r.body.code);
    expect(received).toHaveLength(0);
  });

  it.each(['../../etc/passwd', 'a.php%00.jpg', 'shell.php', 'invoice.pdf.exe', 'cat\u202egnp.exe', 'CON.png'])('refuses the file name %j', async (name) => {
    const r = await post('/photos', [{ name: 'photo', filename: name, type: 'image/png', data: png() }]);
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('RAMPART_UPLOAD_BAD_FILENAME');
    expect(received).toHaveLength(0);
  });

  it('accepts ordinary international file names', async () => {
    const r = await post('/photos', [{ name: 'photo', filename: 'Été à Paris.png', type: 'image/png', data: png() }]);
    expect(r.status).toBe(201);
  });
});

describe('parser differentials and encodings', () => {
  const boundary = 'XyZ';
  const raw = (headers: string, data: Buffer | string): Buffer =>
    Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(data), Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const send = (body: Buffer, headers: Record<string, string> = {}) =>
    call(`${base}/files`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...headers }, body });

  it('refuses filename* (busboy and the upstream could read different names)', async () => {
    const res = await send(raw(`Content-Disposition: form-data; name="f"; filename="shell.php"; filename*=UTF-8''cat.png\r\nContent-Type: image/png`, png()));
    expect(res.json()).toMatchObject({ code: 'RAMPART_UPLOAD_BAD_FILENAME' });
    expect(received).toHaveLength(0);
  });

  it('refuses a base64 Content-Transfer-Encoding (the upstream might decode what clamd never saw)', async () => {
    const res = await send(raw('Content-Disposition: form-data; name="f"; filename="e.txt"\r\nContent-Transfer-Encoding: base64', Buffer.from(EICAR).toString('base64')));
    expect(res.json()).toMatchObject({ code: 'RAMPART_UPLOAD_MALFORMED', status: 400 });
    expect(received).toHaveLength(0);
  });

  it('refuses a compressed request body', async () => {
    const { gzipSync } = await import('node:zlib');
    const res = await send(gzipSync(raw('Content-Disposition: form-data; name="f"; filename="e.txt"', EICAR)), { 'content-encoding': 'gzip' });
    expect(res.json()).toMatchObject({ code: 'RAMPART_UPLOAD_TYPE_NOT_ALLOWED' });
  });

  it('refuses malformed multipart: no boundary, truncated body', async () => {
    let res = await call(`${base}/files`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
    expect(res.json()).toMatchObject({ code: 'RAMPART_UPLOAD_MALFORMED' });
    res = await send(raw('Content-Disposition: form-data; name="f"; filename="a.txt"', 'hello').subarray(0, 60));
    expect(res.json()).toMatchObject({ code: 'RAMPART_UPLOAD_MALFORMED' });
    expect(received).toHaveLength(0);
  });

  it('accepts a hand-written multipart body with binary encoding', async () => {
    const res = await send(raw('Content-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary', 'hello'));
    expect(res.status).toBe(201);
  });
});

describe('archives', () => {
  it('accepts an ordinary zip', async () => {
    const r = await post('/files', [{ name: 'f', filename: 'docs.zip', type: 'application/zip', data: makeZip([{ name: 'docs/a.txt', data: Buffer.from('hello') }]) }]);
    expect(r.status).toBe(201);
  });

  it('refuses zip slip, nested archives and a 42.zip-style bomb', async () => {
    const slip = makeZip([{ name: '../../etc/cron.d/evil', data: Buffer.from('* * * * * root sh') }]);
    let r = await post('/files', [{ name: 'f', filename: 'a.zip', type: 'application/zip', data: slip }]);
    expect(r.body).toMatchObject({ code: 'RAMPART_UPLOAD_ARCHIVE_REJECTED', status: 422 });
    const nested = makeZip([{ name: 'inner.zip', data: makeZip([{ name: 'x.txt', data: Buffer.from('x') }]) }]);
    r = await post('/files', [{ name: 'f', filename: 'b.zip', type: 'application/zip', data: nested }]);
    expect(r.body.code).toBe('RAMPART_UPLOAD_ARCHIVE_REJECTED');
    r = await post('/files', [{ name: 'f', filename: '42.zip', type: 'application/zip', data: recursiveBomb(4, 16, 4 * 1024 * 1024) }]);
    expect(r.body.code).toBe('RAMPART_UPLOAD_ARCHIVE_REJECTED');
    const bomb = makeZip([{ name: 'zeros.bin', data: Buffer.alloc(30 * 1024 * 1024) }]);
    r = await post('/files', [{ name: 'f', filename: 'c.zip', type: 'application/zip', data: bomb }]);
    expect(r.body.code).toBe('RAMPART_UPLOAD_ARCHIVE_REJECTED');
    expect(received).toHaveLength(0);
  });
});

describe('limits', () => {
  it('refuses too many files and an oversized file, and accepts a file at the limit', async () => {
    let r = await post('/photos', [1, 2, 3].map((i) => ({ name: `p${i}`, filename: `${i}.png`, type: 'image/png', data: png() })));
    expect(r.body).toMatchObject({ code: 'RAMPART_UPLOAD_TOO_MANY_PARTS', status: 413 });
    const big = Buffer.concat([png(), Buffer.alloc(65_537 - png().length)]);
    r = await post('/small', [{ name: 'p', filename: 'big.png', type: 'image/png', data: big }]);
    expect(r.body).toMatchObject({ code: 'RAMPART_UPLOAD_TOO_LARGE', status: 413 });
    r = await post('/small', [{ name: 'p', filename: 'ok.png', type: 'image/png', data: big.subarray(0, 65_536) }]);
    expect(r.status).toBe(201);
  });

  it('aborts an oversized streamed upload early, before the client has sent it all', async () => {
    const port = gateway.ports.https!;
    const outcome = await new Promise<{ status: number; sent: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/small', method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' } });
      let sent = 0;
      let stop = false;
      req.on('response', (res) => {
        stop = true;
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, sent, body }));
      });
      req.on('error', (err) => (stop ? undefined : reject(err)));
      const chunk = Buffer.alloc(16 * 1024, 1);
      const pump = (): void => {
        while (!stop && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(sent === chunk.length ? Buffer.concat([png(), chunk]).subarray(0, chunk.length) : chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!stop) req.end();
      };
      pump();
    });
    expect(outcome.status).toBe(413);
    expect(JSON.parse(outcome.body)).toMatchObject({ code: 'RAMPART_UPLOAD_TOO_LARGE' });
    expect(outcome.sent).toBeLessThan(64 * 1024 * 1024);
    expect(received).toHaveLength(0);
  });

  it('refuses a declared Content-Length above the limit without reading the body', async () => {
    const res = await call(`${base}/small`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: Buffer.alloc(70_000) });
    expect(res.json()).toMatchObject({ code: 'RAMPART_UPLOAD_TOO_LARGE' });
  });
});

describe('scanner unavailable', () => {
  it('fails closed with a 503 problem and Retry-After', async () => {
    const { body, contentType } = multipart([{ name: 'photo', filename: 'cat.png', type: 'image/png', data: png() }]);
    const res = await call(`${base}/down`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.json()).toMatchObject({ code: 'RAMPART_UPLOAD_SCANNER_UNAVAILABLE' });
    expect(String(res.json().detail)).toMatch(/scanner is unavailable/);
    const e = await eventOf('upload.scanner_unavailable');
    expect(e).toMatchObject({ severity: 'high', data: { action: 'blocked' } });
    expect(received).toHaveLength(0);
  });

  it('passes through unscanned when configured fail-open, with an event', async () => {
    const r = await post('/failopen', [{ name: 'photo', filename: 'cat.png', type: 'image/png', data: png() }]);
    expect(r.status).toBe(201);
    expect(received[0]!.body.equals(r.sent)).toBe(true);
    expect(await eventOf('upload.scanner_unavailable')).toMatchObject({ severity: 'high', data: { action: 'forwarded-unscanned' } });
    expect((await eventOf('upload.accepted')).data).toMatchObject({ scan: 'unavailable-allowed' });
  });

  it('a clamd stopped mid-life fails closed', async () => {
    const own = await startClamd();
    const gwDir = tempDir();
    writeFileSync(join(gwDir, 'rampart.yaml'), `${TEST_LISTENERS}
upstreams:
  rec: { url: "http://127.0.0.1:${(upstream.address() as { port: number }).port}" }
routes:
  - id: p
    path: /p
    upstream: rec
    stages:
      - type: upload
        allow: [image/png]
        scan: { clamd: "${own.unix}", timeoutMs: 2000 }
`);
    const gw = await Gateway.start({ configFile: join(gwDir, 'rampart.yaml'), watch: false, logger: pino({ level: 'silent' }) });
    try {
      const { body, contentType } = multipart([{ name: 'photo', filename: 'cat.png', type: 'image/png', data: png() }]);
      const url = `https://127.0.0.1:${gw.ports.https}/p`;
      expect((await call(url, { method: 'POST', headers: { 'content-type': contentType }, body })).status).toBe(201);
      await own.stop();
      expect((await call(url, { method: 'POST', headers: { 'content-type': contentType }, body })).status).toBe(503);
    } finally {
      await gw.stop();
      await own.stop();
    }
    expect(existsSync(gwDir)).toBe(true);
  });
});
