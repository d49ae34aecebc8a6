/**
 * The `upload` stage (inspect phase): receives a multipart or raw upload into a private temporary
 * directory, refuses it as soon as a limit is crossed, inspects every file (type by content,
 * names, active content, archives), scans it with clamd, and only then lets the proxy forward the
 * spooled body. The upstream never receives a byte that was not inspected.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { RequestContext } from '../../core/context.js';
import { RampartError, toRampartError } from '../../core/errors.js';
import type { SecurityEvent } from '../../core/events.js';
import { defineStage } from '../definition.js';
import { ClamdClient, parseClamdAddress, ScannerUnavailable, ScanTooLarge } from '../../upload/clamd.js';
import { inspectFile, type ContentPolicy, type Inspection } from '../../upload/inspect.js';
import { receiveMultipart, receiveRaw, type ReceivedFile, type ReceivedUpload, type ReceiveLimits } from './receive.js';

const MIB = 1024 * 1024;
const MEDIA_RANGE = /^(?:\*\/\*|[a-z0-9][a-z0-9!#$&^_.+-]*\/(?:\*|[a-z0-9][a-z0-9!#$&^_.+-]*))$/;

const uploadOptions = z
  .object({
    type: z.literal('upload'),
    /** Media types accepted, decided from the content's magic bytes: `image/png`, `image/*`, `*\/*`. */
    allow: z.array(z.string().regex(MEDIA_RANGE, 'must be a media type like image/png, image/* or */*')).min(1),
    /** Largest single file, bytes (10 MiB). */
    maxFileBytes: z.number().int().min(1).default(10 * MIB),
    /** Largest sum of all files in one request, bytes (20 MiB). */
    maxTotalBytes: z.number().int().min(1).default(20 * MIB),
    /** Most files in one multipart request. */
    maxFiles: z.number().int().min(1).max(1000).default(5),
    /** Most non-file fields in one multipart request. */
    maxFields: z.number().int().min(0).max(1000).default(20),
    /** Largest non-file field value, bytes (64 KiB). */
    maxFieldBytes: z.number().int().min(1).default(64 * 1024),
    /** Accept non-multipart bodies (`image/png`, `application/octet-stream`, …) as one file. */
    raw: z.boolean().default(true),
    /** Refuse files whose declared Content-Type or extension contradicts their content. */
    refuseMismatch: z.boolean().default(true),
    archives: z
      .object({
        /** Most entries over all nesting levels. */
        maxEntries: z.number().int().min(1).default(1000),
        /** Most bytes all entries may inflate to, bytes (100 MiB). */
        maxUncompressedBytes: z.number().int().min(1).default(100 * MIB),
        /** Largest inflated/compressed ratio of an entry past 1 MiB of output. */
        maxRatio: z.number().min(1).default(100),
        /** Archive levels: 1 refuses any archive inside an archive. */
        maxDepth: z.number().int().min(1).max(10).default(1),
        /** Accept password-protected entries (they cannot be inspected or scanned). */
        allowEncrypted: z.boolean().default(false),
      })
      .strict()
      .default({ maxEntries: 1000, maxUncompressedBytes: 100 * MIB, maxRatio: 100, maxDepth: 1, allowEncrypted: false }),
    /** Malware scanning through a ClamAV daemon; absent = no scan. */
    scan: z
      .object({
        /** `tcp://host:port` or `unix:/path/to/clamd.sock`. */
        clamd: z.string().refine((a) => {
          try {
            parseClamdAddress(a);
            return true;
          } catch {
            return false;
          }
        }, 'must be tcp://host:port or unix:/path'),
        /** Whole-scan deadline per file, milliseconds. */
        timeoutMs: z.number().int().min(100).default(30_000),
        /** Largest file sent to clamd, bytes: keep it at clamd's StreamMaxLength (25 MiB by default). Larger files are refused. */
        maxBytes: z.number().int().min(1).default(25 * MIB),
        /** When clamd cannot be reached: `block` (503, the default) or `allow` (forward unscanned, with a high-severity event). */
        onUnavailable: z.enum(['block', 'allow']).default('block'),
      })
      .strict()
      .optional(),
    /** Where uploads are spooled while inspected (a private directory per request). Default: the OS temp dir. */
    tempDir: z.string().optional(),
    /** Keep refused files here (`<id>` and `<id>.json`) for analysis; the id is in the event. */
    quarantineDir: z.string().optional(),
  })
  .strict();

export type UploadOptions = z.infer<typeof uploadOptions>;

/** A file refused for its content: which one, and where it was quarantined. */
interface RefusedFile {
  readonly file: ReceivedFile;
  readonly error: RampartError;
}

/**
 * Secure uploads at the edge.
 *
 * @example
 *   stages:
 *     - type: upload
 *       allow: [image/png, image/jpeg]
 *       maxFileBytes: 5242880
 *       scan: { clamd: tcp://127.0.0.1:3310 }
 */
export const uploadStage = defineStage({
  type: 'upload',
  phase: 'inspect',
  options: uploadOptions,
  create(options, deps) {
    const tempRoot = options.tempDir !== undefined ? resolve(deps.baseDir, options.tempDir) : tmpdir();
    const quarantine = options.quarantineDir !== undefined ? resolve(deps.baseDir, options.quarantineDir) : undefined;
    const clamd = options.scan !== undefined ? new ClamdClient({ address: options.scan.clamd, timeoutMs: options.scan.timeoutMs, maxBytes: options.scan.maxBytes }) : undefined;
    const content: ContentPolicy = { allow: options.allow, refuseMismatch: options.refuseMismatch, archives: options.archives };
    const routeLimit = deps.route?.limits.maxBodyBytes ?? deps.config.limits.maxBodyBytes;
    if (routeLimit < Math.min(options.maxFileBytes, options.maxTotalBytes)) {
      deps.services.logger.warn({ route: deps.route?.id, maxBodyBytes: routeLimit, maxFileBytes: options.maxFileBytes }, 'upload: the route body limit is below the upload limit and refuses larger uploads first');
    }
    /** Per-request temp directories, removed when the response completes. */
    const dirs = new WeakMap<RequestContext, string>();

    const refuse = async (ctx: RequestContext, refused: RefusedFile, type: string, severity: SecurityEvent['severity'], data: Record<string, unknown> = {}): Promise<never> => {
      const quarantineId = quarantine !== undefined ? await quarantineFile(quarantine, ctx, refused) : undefined;
      ctx.emit({
        type,
        severity,
        source: 'upload',
        code: refused.error.code,
        reason: refused.error.reason,
        data: { ...describe(refused.file), ...data, ...(quarantineId !== undefined ? { quarantineId } : {}) },
      });
      throw refused.error;
    };

    const scanAll = async (ctx: RequestContext, upload: ReceivedUpload): Promise<'clean' | 'unavailable-allowed'> => {
      const scanner = clamd!;
      const targets: Array<{ file: ReceivedFile | undefined; open: () => Readable; size: number }> = upload.files.map((f) => ({
        file: f,
        open: () => createReadStream(f.spool.path),
        size: f.spool.size,
      }));
      // Text fields could carry a payload as easily as a file part: they are scanned as one stream.
      const fieldBytes = upload.fields.reduce((n, b) => n + b.length + 1, 0);
      if (fieldBytes > 0) targets.push({ file: undefined, open: () => Readable.from(upload.fields.map((b) => Buffer.concat([b, Buffer.from('\n')]))), size: fieldBytes });
      for (const target of targets) {
        let result;
        try {
          result = await scanner.scan(target.open(), target.size);
        } catch (err) {
          if (err instanceof ScanTooLarge) {
            const error = new RampartError('RAMPART_UPLOAD_TOO_LARGE', `The file is larger than the malware scanner accepts (${err.limit} bytes).`, { reason: err.message });
            if (target.file !== undefined) await refuse(ctx, { file: target.file, error }, 'upload.rejected', 'medium');
            throw error;
          }
          if (!(err instanceof ScannerUnavailable)) throw err;
          const allowed = options.scan!.onUnavailable === 'allow';
          ctx.emit({
            type: 'upload.scanner_unavailable',
            severity: 'high',
            source: 'upload',
            code: allowed ? undefined : 'RAMPART_UPLOAD_SCANNER_UNAVAILABLE',
            reason: err.message,
            data: { clamd: options.scan!.clamd, action: allowed ? 'forwarded-unscanned' : 'blocked' },
          });
          if (allowed) return 'unavailable-allowed';
          throw new RampartError('RAMPART_UPLOAD_SCANNER_UNAVAILABLE', 'The malware scanner is unavailable, so uploads are refused for now.', {
            reason: `clamd ${options.scan!.clamd}: ${err.message}`,
            headers: { 'retry-after': '30' },
          });
        }
        if (result.status === 'infected') {
          const error = new RampartError('RAMPART_UPLOAD_MALWARE', 'The upload contains malware.', { reason: `clamd: ${result.signature}` });
          const refused: RefusedFile = target.file !== undefined ? { file: target.file, error } : { file: { field: '(fields)', name: undefined, declaredType: undefined, spool: upload.raw }, error };
          await refuse(ctx, refused, 'upload.malware', 'high', { threat: result.signature });
        }
      }
      return 'clean';
    };

    return {
      name: 'upload',
      phase: 'inspect',
      async handle(ctx) {
        if (!ctx.hasBody) return;
        const contentType = (ctx.req.headers['content-type'] ?? '').toLowerCase();
        const multipart = contentType.startsWith('multipart/form-data');
        const encoding = (ctx.req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
        if (encoding !== 'identity') {
          // The upstream would inflate what we inspected compressed: refuse rather than guess.
          throw new RampartError('RAMPART_UPLOAD_TYPE_NOT_ALLOWED', 'Uploads must not be sent with a Content-Encoding.', { reason: `content-encoding ${encoding.slice(0, 40)}` });
        }
        if (!multipart && !options.raw) {
          throw new RampartError('RAMPART_UPLOAD_TYPE_NOT_ALLOWED', 'Uploads must be sent as multipart/form-data.', { reason: `content-type ${contentType.slice(0, 80)}` });
        }
        await mkdir(tempRoot, { recursive: true, mode: 0o700 });
        const dir = await mkdtemp(join(tempRoot, 'rampart-upload-'));
        dirs.set(ctx, dir);
        const limits: ReceiveLimits = {
          maxBodyBytes: ctx.maxBodyBytes,
          maxFileBytes: options.maxFileBytes,
          maxTotalBytes: options.maxTotalBytes,
          maxFiles: options.maxFiles,
          maxFields: options.maxFields,
          maxFieldBytes: options.maxFieldBytes,
        };
        let upload: ReceivedUpload;
        try {
          upload = multipart ? await receiveMultipart(ctx.req, dir, limits) : await receiveRaw(ctx.req, dir, limits);
        } catch (err) {
          const e = toRampartError(err);
          ctx.emit({ type: 'upload.rejected', severity: 'low', source: 'upload', code: e.code, reason: e.reason, data: { bytesReceived: ctx.req.socket.bytesRead } });
          throw e;
        }
        ctx.bytesIn = upload.raw.size;
        const inspections: Inspection[] = [];
        for (const file of upload.files) {
          try {
            inspections.push(await inspectFile(file.spool, file.declaredType, file.name?.extension ?? '', content));
          } catch (err) {
            await refuse(ctx, { file, error: toRampartError(err) }, 'upload.rejected', 'medium');
          }
        }
        const scan = clamd !== undefined ? await scanAll(ctx, upload) : 'not-configured';
        ctx.emit({
          type: 'upload.accepted',
          severity: 'info',
          source: 'upload',
          data: {
            files: upload.files.map((f, i) => ({ ...describe(f), type: inspections[i]!.detected.mime, ...(inspections[i]!.archive !== undefined ? { archive: inspections[i]!.archive } : {}) })),
            fields: upload.fields.length,
            scan,
          },
        });
        const raw = upload.raw;
        ctx.spooledBody = { length: raw.size, open: () => createReadStream(raw.path) };
      },
      onComplete(ctx) {
        const dir = dirs.get(ctx);
        if (dir === undefined) return;
        dirs.delete(ctx);
        rm(dir, { recursive: true, force: true }).catch((err: unknown) => deps.services.logger.warn({ err, dir }, 'upload: could not remove a temporary directory'));
      },
    };
  },
});

/** Facts about a file for events: never its content, and its name only sanitised. */
function describe(file: ReceivedFile): Record<string, unknown> {
  return {
    field: file.field,
    ...(file.name !== undefined ? { filename: file.name.sanitized } : {}),
    ...(file.declaredType !== undefined ? { declaredType: file.declaredType.slice(0, 100) } : {}),
    bytes: file.spool.size,
    sha256: file.spool.sha256,
  };
}

/** Copies a refused file and its metadata into the quarantine directory; returns its id. */
async function quarantineFile(dir: string, ctx: RequestContext, refused: RefusedFile): Promise<string> {
  const id = randomUUID();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await copyFile(refused.file.spool.path, join(dir, id));
  const meta = { id, time: new Date().toISOString(), requestId: ctx.id, route: ctx.route?.id, clientIp: ctx.clientIp, code: refused.error.code, reason: refused.error.reason, ...describe(refused.file) };
  await writeFile(join(dir, `${id}.json`), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
  return id;
}
