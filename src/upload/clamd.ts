/**
 * A ClamAV daemon client speaking the INSTREAM protocol over TCP or a unix socket: the file is sent
 * as length-prefixed chunks, clamd answers `stream: OK` or `stream: NAME FOUND`. One connection per
 * scan (clamd closes it after INSTREAM anyway), so there is no pool state to go stale.
 */
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';

export interface ClamdOptions {
  /** `tcp://host:port` or `unix:/path/to/clamd.sock`. */
  readonly address: string;
  /** Whole-scan deadline, milliseconds (connect, send, verdict). */
  readonly timeoutMs: number;
  /** Largest stream to send: clamd's StreamMaxLength (it refuses more). */
  readonly maxBytes: number;
}

export type ScanResult = { readonly status: 'clean' } | { readonly status: 'infected'; readonly signature: string };

/** clamd could not be reached or did not answer properly in time. */
export class ScannerUnavailable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ScannerUnavailable';
  }
}

/** The file is larger than clamd accepts (StreamMaxLength): it cannot be scanned. */
export class ScanTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`larger than the scanner's ${limit}-byte stream limit`);
    this.name = 'ScanTooLarge';
  }
}

/** Parsed `address`: where `net.connect` goes. */
export function parseClamdAddress(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice(5) };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(address);
  if (m === null) throw new Error('must be tcp://host:port or unix:/path');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/**
 * Scans with clamd.
 *
 * @example
 *   const clamd = new ClamdClient({ address: 'tcp://127.0.0.1:3310', timeoutMs: 30_000, maxBytes: 25 * 1024 * 1024 });
 *   await clamd.scan(createReadStream(file), size) // { status: 'clean' }
 */
export class ClamdClient {
  private readonly target: { path: string } | { host: string; port: number };

  constructor(readonly options: ClamdOptions) {
    this.target = parseClamdAddress(options.address);
  }

  /** `PING` → `PONG`: true when clamd answers. */
  async ping(): Promise<boolean> {
    try {
      return (await this.exchange((s) => void s.end('zPING\0'))) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Streams `size` bytes from `data` to clamd. Throws ScanTooLarge or ScannerUnavailable. */
  async scan(data: Readable, size: number): Promise<ScanResult> {
    if (size > this.options.maxBytes) {
      data.destroy();
      throw new ScanTooLarge(this.options.maxBytes);
    }
    const reply = await this.exchange(async (socket) => {
      socket.write('zINSTREAM\0');
      for await (const chunk of data as AsyncIterable<Buffer>) {
        const len = Buffer.allocUnsafe(4);
        len.writeUInt32BE(chunk.length);
        socket.write(len);
        // Backpressure: clamd reads at its own pace; never queue the file in memory.
        if (!socket.write(chunk)) await drained(socket);
      }
      socket.end(Buffer.alloc(4));
    }).finally(() => data.destroy());
    if (reply.endsWith(' OK')) return { status: 'clean' };
    const found = /^stream: (.+) FOUND$/.exec(reply);
    if (found !== null) return { status: 'infected', signature: found[1]! };
    if (/size limit exceeded/i.test(reply)) throw new ScanTooLarge(this.options.maxBytes);
    throw new ScannerUnavailable(`unexpected clamd reply: ${reply.slice(0, 200)}`);
  }

  /** Opens a connection, lets `send` write, and returns clamd's NUL-terminated reply. */
  private exchange(send: (socket: Socket) => void | Promise<void>): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.target);
      let reply = '';
      let settled = false;
      const finish = (err: Error | undefined, value = ''): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err !== undefined) reject(err);
        else resolve(value);
      };
      const timer = setTimeout(() => finish(new ScannerUnavailable(`no verdict within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        reply += d;
        const end = reply.indexOf('\0');
        if (end !== -1) finish(undefined, reply.slice(0, end).trim());
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        // clamd answers "size limit exceeded" and closes while we still write: keep its reply.
        if (reply !== '') finish(undefined, reply.replace(/\0$/, '').trim());
        else finish(new ScannerUnavailable(`${err.code ?? ''} ${err.message}`.trim()));
      });
      socket.on('end', () => finish(reply !== '' ? undefined : new ScannerUnavailable('clamd closed without a verdict'), reply.replace(/\0$/, '').trim()));
      socket.once('connect', () => {
        Promise.resolve(send(socket)).catch((err: unknown) => finish(err instanceof Error ? err : new ScannerUnavailable(String(err))));
      });
    });
  }
}

/** Resolves when the socket can take more, rejects if it closes first (listeners removed either way). */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      socket.off('drain', onDrain);
      reject(new ScannerUnavailable('clamd closed the connection'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}
