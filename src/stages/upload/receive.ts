/**
 * Receiving an upload: the request body is spooled byte for byte (that copy is what the upstream
 * gets) while busboy parses the same bytes and each file part is spooled on its own for
 * inspection. Limits abort the transfer as soon as they are crossed.
 */
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { RampartError } from '../../core/errors.js';
import { checkFilename, type FilenameCheck } from '../../upload/filename.js';
import { FileSpool, SpoolLimitExceeded, type SpooledFile } from '../../upload/spool.js';

export interface ReceiveLimits {
  /** The route's request body limit, bytes (multipart overhead included). */
  readonly maxBodyBytes: number;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly maxFiles: number;
  readonly maxFields: number;
  readonly maxFieldBytes: number;
}

/** One received file, spooled and not yet inspected. */
export interface ReceivedFile {
  /** Form field name ('' for a raw body). */
  readonly field: string;
  /** Checked file name, when the client gave one. */
  readonly name: FilenameCheck | undefined;
  /** Media type the client declared for the part (or the request). */
  readonly declaredType: string | undefined;
  readonly spool: SpooledFile;
}

export interface ReceivedUpload {
  /** The request body exactly as received. */
  readonly raw: SpooledFile;
  readonly files: readonly ReceivedFile[];
  /** Text fields, for the malware scan (bounded by maxFields × maxFieldBytes). */
  readonly fields: readonly Buffer[];
}

/** Refuses an unsafe file name; the sanitised form goes to events only. */
function requireSafeName(raw: string | undefined): FilenameCheck | undefined {
  if (raw === undefined) return undefined;
  const name = checkFilename(raw);
  if (name.problems.length > 0) {
    throw new RampartError('RAMPART_UPLOAD_BAD_FILENAME', 'The file name is not acceptable (paths, control or direction characters, executable or reserved names).', {
      reason: `file name ${JSON.stringify(name.sanitized)}: ${name.problems.join(', ')}`,
      extensions: { problems: name.problems },
    });
  }
  return name;
}

function tooLarge(limit: number, what: string): RampartError {
  return new RampartError('RAMPART_UPLOAD_TOO_LARGE', `${what} exceeds ${limit} bytes.`);
}

/**
 * Receives a `multipart/form-data` body into `dir`.
 *
 * @example
 *   const upload = await receiveMultipart(req, '/tmp/rampart-upload-x', limits);
 */
export function receiveMultipart(req: IncomingMessage, dir: string, limits: ReceiveLimits): Promise<ReceivedUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // Keep client paths so that `../../etc/passwd` is seen (and refused) as sent.
        preservePath: true,
        defParamCharset: 'utf8',
        limits: { files: limits.maxFiles, fields: limits.maxFields, fieldSize: limits.maxFieldBytes, parts: limits.maxFiles + limits.maxFields, headerPairs: 32 },
      });
    } catch (err) {
      reject(new RampartError('RAMPART_UPLOAD_MALFORMED', 'The multipart body could not be parsed.', { reason: (err as Error).message }));
      return;
    }
    const headers = new PartHeaderWatch();
    const raw = new FileSpool(join(dir, 'body'), limits.maxBodyBytes, { scanContent: false, onChunk: (c) => headers.push(c) });
    const files: Array<Promise<ReceivedFile>> = [];
    const fields: Buffer[] = [];
    const spools: FileSpool[] = [raw];
    let fileBytes = 0;
    let failed = false;

    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      // Stop reading: the problem response closes the connection, the rest is never received.
      req.unpipe(raw);
      req.unpipe(parser);
      req.pause();
      parser.removeAllListeners();
      parser.on('error', () => undefined);
      parser.destroy();
      for (const s of spools) s.destroy();
      reject(toUploadError(err, limits.maxBodyBytes, 'The request body'));
    };

    parser.on('file', (field, stream, info) => {
      // First: destroying the parser after an abort errors the open file stream.
      stream.on('error', fail);
      try {
        // RFC 7578 §4.7: no Content-Transfer-Encoding. An upstream that decodes base64 parts would
        // receive content other than what was inspected and scanned.
        if (!['7bit', '8bit', 'binary'].includes(info.encoding.toLowerCase())) {
          throw new RampartError('RAMPART_UPLOAD_MALFORMED', 'Multipart parts must not use a Content-Transfer-Encoding.', { reason: `part encoding ${info.encoding.slice(0, 40)}` });
        }
        const name = requireSafeName(info.filename);
        const index = files.length;
        // Files arrive one after another: each may use what the previous ones left of the total.
        const left = limits.maxTotalBytes - fileBytes;
        const cap = Math.min(limits.maxFileBytes, left);
        const spool = new FileSpool(join(dir, `file-${index}`), cap);
        spools.push(spool);
        spool.on('error', (err) => fail(err instanceof SpoolLimitExceeded && cap < limits.maxFileBytes ? tooLarge(limits.maxTotalBytes, 'The files together') : err));
        stream.on('data', (chunk: Buffer) => (fileBytes += chunk.length));
        stream.pipe(spool);
        const received = spool.done.then((file) => ({ field, name, declaredType: info.mimeType, spool: file }));
        // Awaited only when the parser closes; after an abort nobody will: keep it observed.
        received.catch(() => undefined);
        files.push(received);
      } catch (err) {
        stream.resume();
        fail(err);
      }
    });
    parser.on('field', (_name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) fail(tooLarge(limits.maxFieldBytes, 'A form field'));
      else fields.push(Buffer.from(value));
    });
    const tooMany = (what: string) => (): void =>
      fail(new RampartError('RAMPART_UPLOAD_TOO_MANY_PARTS', `The upload has too many ${what}.`, { reason: `${what} limit reached` }));
    parser.on('filesLimit', tooMany('files'));
    parser.on('fieldsLimit', tooMany('fields'));
    parser.on('partsLimit', tooMany('parts'));
    parser.on('error', (err: Error) => fail(new RampartError('RAMPART_UPLOAD_MALFORMED', 'The multipart body could not be parsed.', { reason: err.message })));
    raw.on('error', fail);
    req.on('aborted', () => fail(new RampartError('RAMPART_BAD_REQUEST', 'The request body could not be read.', { reason: 'client aborted' })));

    parser.on('close', () => {
      Promise.all([raw.done, Promise.all(files)]).then(([rawFile, received]) => {
        if (headers.extendedFilename) {
          fail(new RampartError('RAMPART_UPLOAD_BAD_FILENAME', 'Multipart file names must be given with filename=, not filename*= (RFC 7578).', { reason: 'filename* parameter in a part header' }));
        } else if (!failed) resolve({ raw: rawFile, files: received, fields });
      }, fail);
    });
    req.pipe(raw);
    req.pipe(parser);
  });
}

/**
 * Receives a non-multipart body as one file (`Content-Type` is its declared type,
 * `Content-Disposition: attachment; filename=…` its name).
 */
export async function receiveRaw(req: IncomingMessage, dir: string, limits: ReceiveLimits): Promise<ReceivedUpload> {
  const name = requireSafeName(dispositionFilename(req.headers['content-disposition']));
  const cap = Math.min(limits.maxBodyBytes, limits.maxFileBytes, limits.maxTotalBytes);
  const declaredLength = Number(req.headers['content-length'] ?? 0);
  if (declaredLength > cap) throw tooLarge(cap, 'The file');
  const spool = new FileSpool(join(dir, 'body'), cap);
  const aborted = (): void => {
    spool.destroy(new RampartError('RAMPART_BAD_REQUEST', 'The request body could not be read.', { reason: 'client aborted' }));
  };
  req.on('aborted', aborted);
  spool.on('error', () => {
    req.unpipe(spool);
    req.pause();
  });
  req.pipe(spool);
  try {
    const file = await spool.done;
    return { raw: file, files: [{ field: '', name, declaredType: req.headers['content-type'], spool: file }], fields: [] };
  } catch (err) {
    throw toUploadError(err, cap, 'The file');
  } finally {
    req.off('aborted', aborted);
  }
}

/**
 * Watches the raw multipart bytes for a `filename*=` parameter in a Content-Disposition header.
 * busboy prefers it over `filename=` while other parsers take `filename=`: a part carrying both
 * would have its name checked under one name and stored under the other. RFC 7578 §4.2 forbids
 * `filename*` in multipart/form-data, so any use is refused.
 */
class PartHeaderWatch {
  extendedFilename = false;
  private tail = '';

  push(chunk: Buffer): void {
    if (this.extendedFilename) return;
    const window = this.tail + chunk.toString('latin1');
    if (/\r\ncontent-disposition:[^\r\n]*filename\*/i.test(window)) this.extendedFilename = true;
    this.tail = window.slice(-1024);
  }
}

function toUploadError(err: unknown, limit: number, what: string): RampartError {
  if (err instanceof RampartError) return err;
  if (err instanceof SpoolLimitExceeded) return tooLarge(err.limit === limit ? limit : err.limit, err.limit === limit ? what : 'A file');
  return new RampartError('RAMPART_INTERNAL', 'The upload could not be stored for inspection.', { reason: (err as Error).message });
}

/** `filename*=UTF-8''…` (RFC 6266/5987) wins over `filename="…"`. */
function dispositionFilename(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const extended = /filename\*\s*=\s*(?:utf-8|UTF-8)'[^']*'([^;]+)/.exec(header);
  if (extended !== null) {
    try {
      return decodeURIComponent(extended[1]!.trim());
    } catch {
      return '\u0000invalid';
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(header);
  if (plain === null) return undefined;
  return plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2];
}
