/**
 * Memory under a large scanned upload: streams one multipart upload of SIZE bytes (default 1 GiB)
 * through a real gateway process whose route inspects and scans it with a real clamd, and samples
 * the gateway's resident set size (VmRSS) while it receives, inspects, scans and forwards it.
 *
 *   npx tsx bench/upload-rss.ts [SIZE_MIB]
 *
 * Prints idle RSS, peak RSS and their difference (the figure in docs/performance.md), the time
 * taken and whether the upstream received the body byte for byte (SHA-256).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { startClamd } from '../test/helpers/clamd.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tempDir } from '../test/helpers/gateway.js';

const MIB = 1024 * 1024;
const size = Number(process.argv[2] ?? 1024) * MIB;

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

async function main(): Promise<void> {
  const clamd = await startClamd({ streamMaxBytes: size + 64 * MIB });
  let upstreamBytes = 0;
  const upstreamHash = createHash('sha256');
  const upstream = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      upstreamBytes += c.length;
      upstreamHash.update(c);
    });
    req.on('end', () => res.writeHead(201).end());
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const dir = tempDir('rampart-bench-upload-');
  const config = join(dir, 'rampart.yaml');
  const max = size + 16 * MIB;
  writeFileSync(
    config,
    `listeners:
  https: { port: 0, host: 127.0.0.1 }
  http: { enabled: false }
admin: { enabled: false }
log: { level: warn, access: false }
limits: { requestTimeoutMs: 3600000 }
upstreams:
  sink: { url: "http://127.0.0.1:${(upstream.address() as { port: number }).port}", bodyTimeoutMs: 3600000, headersTimeoutMs: 3600000 }
routes:
  - id: big
    path: /upload
    methods: [POST]
    upstream: sink
    limits: { maxBodyBytes: ${max} }
    stages:
      - type: upload
        allow: ['*/*']
        maxFileBytes: ${max}
        maxTotalBytes: ${max}
        tempDir: ${join(dir, 'spool')}
        scan: { clamd: "${clamd.unix}", timeoutMs: 3600000, maxBytes: ${max} }
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support/gateway-process.ts'), config], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<{ https: number }>((resolve) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve((JSON.parse(line) as { ports: { https: number } }).ports));
  });
  const pid = child.pid!;
  try {
    await measure(pid, ports.https, size);
  } finally {
    child.kill('SIGTERM');
    await clamd.stop();
    upstream.close();
  }

  async function measure(pid: number, port: number, size: number): Promise<void> {
  // Let start-up allocations settle before taking the idle figure.
  await new Promise((r) => setTimeout(r, 1000));
  const idle = rssOf(pid);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);

  const boundary = 'rampart-bench-boundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunk = randomBytes(MIB);
  const sentHash = createHash('sha256');
  const started = performance.now();
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/upload',
      method: 'POST',
      rejectUnauthorized: false,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + size + tail.length },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        if (res.statusCode !== 201) console.error(text);
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', reject);
    let sent = 0;
    const write = (b: Buffer): boolean => {
      sentHash.update(b);
      return req.write(b);
    };
    write(head);
    const pump = (): void => {
      while (sent < size) {
        const part = size - sent >= chunk.length ? chunk : chunk.subarray(0, size - sent);
        sent += part.length;
        if (!write(part)) {
          req.once('drain', pump);
          return;
        }
      }
      write(tail);
      req.end();
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const sameBytes = upstreamHash.digest('hex') === sentHash.digest('hex');
  console.log(
    JSON.stringify(
      {
        uploadMiB: size / MIB,
        status,
        seconds: Number(seconds.toFixed(1)),
        idleRssMiB: Number((idle / MIB).toFixed(1)),
        peakRssMiB: Number((peak / MIB).toFixed(1)),
        rssGrowthMiB: Number(((peak - idle) / MIB).toFixed(1)),
        upstreamBytes,
        byteForByte: sameBytes,
      },
      null,
      2,
    ),
  );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
