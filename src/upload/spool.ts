/**
 * Spooling: a stream written to a size-capped temporary file, hashed and searched for active
 * content on the way, so that no upload is ever held whole in memory and inspection/scanning can
 * re-read it as often as needed.
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { ContentScanner, type Finding } from './content-scanner.js';

/** Bytes of the start of the file kept in memory for type detection. */
const HEAD_BYTES = 64 * 1024;

/** The spool crossed its size cap; the stream is refused (and the partial file removed by its owner). */
export class SpoolLimitExceeded extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
    this.name = 'SpoolLimitExceeded';
  }
}

/** A finished spool. */
export interface SpooledFile {
  readonly path: string;
  readonly size: number;
  /** Hex SHA-256 of the content: identifies the file in events and quarantine. */
  readonly sha256: string;
  /** The first bytes (up to 64 KiB). */
  readonly head: Buffer;
  /** Active-content markers seen anywhere in the file. */
  readonly findings: readonly Finding[];
}

/**
 * A writable that stores what it receives in `path` (created exclusively, mode 0600) and refuses
 * more than `maxBytes`. Pipe into it; `done` resolves once the file is complete on disk.
 *
 * @example
 *   const spool = new FileSpool('/tmp/rampart-x/raw', 10 * 1024 * 1024);
 *   req.pipe(spool);
 *   const file = await spool.done;
 */
export class FileSpool extends Writable {
  readonly done: Promise<SpooledFile>;
  private readonly file: WriteStream;
  private readonly hash: Hash = createHash('sha256');
  private readonly scanner: ContentScanner | undefined;
  private readonly headChunks: Buffer[] = [];
  private headSize = 0;
  private size = 0;
  private readonly onChunk: ((chunk: Buffer) => void) | undefined;

  /**
   * `scanContent: false` skips the active-content search (the raw multipart body: its files are
   * searched one by one); `onChunk` sees every accepted chunk, in order.
   */
  constructor(readonly path: string, private readonly maxBytes: number, options: { scanContent?: boolean; onChunk?: (chunk: Buffer) => void } = {}) {
    super();
    this.scanner = options.scanContent === false ? undefined : new ContentScanner();
    this.onChunk = options.onChunk;
    this.file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    this.file.on('error', (err) => this.destroy(err));
    this.done = new Promise((resolve, reject) => {
      this.once('error', reject);
      this.once('finish', () => {
        const head = Buffer.concat(this.headChunks, this.headSize);
        resolve({ path, size: this.size, sha256: this.hash.digest('hex'), head, findings: this.scanner?.findings() ?? [] });
      });
    });
    // `done` may be awaited only after other work; never let its rejection go unobserved meanwhile.
    this.done.catch(() => undefined);
  }


  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      cb(new SpoolLimitExceeded(this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    this.scanner?.push(chunk);
    this.onChunk?.(chunk);
    if (this.headSize < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.headSize);
      this.headChunks.push(part);
      this.headSize += part.length;
    }
    if (this.file.write(chunk)) cb();
    else this.file.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.file.end((err?: Error | null) => cb(err));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.file.destroy();
    cb(err);
  }
}
