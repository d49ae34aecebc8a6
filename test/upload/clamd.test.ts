import { Readable } from 'node:stream';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdClient, ScannerUnavailable, ScanTooLarge, parseClamdAddress } from '../../src/upload/clamd.js';
import { EICAR, startClamd, TEST_MALWARE, type TestClamd } from '../helpers/clamd.js';
import { makeZip } from '../helpers/zip.js';
import { png } from '../helpers/files.js';

let clamd: TestClamd;
beforeAll(async () => {
  clamd = await startClamd({ streamMaxBytes: 1024 * 1024 });
});
afterAll(async () => {
  await clamd.stop();
});

const scan = (address: string, data: Buffer, maxBytes = 1024 * 1024): Promise<unknown> =>
  new ClamdClient({ address, timeoutMs: 5_000, maxBytes }).scan(Readable.from([data]), data.length);

describe('ClamdClient against a real clamd', () => {
  it('answers PING over unix and TCP sockets', async () => {
    expect(await new ClamdClient({ address: clamd.unix, timeoutMs: 1000, maxBytes: 1 }).ping()).toBe(true);
    expect(await new ClamdClient({ address: clamd.tcp, timeoutMs: 1000, maxBytes: 1 }).ping()).toBe(true);
  });

  it('reports clean files clean', async () => {
    expect(await scan(clamd.unix, png())).toEqual({ status: 'clean' });
    expect(await scan(clamd.tcp, Buffer.from('hello world'))).toEqual({ status: 'clean' });
  });

  it('finds EICAR, plain and inside a zip, and our own pattern', async () => {
    expect(await scan(clamd.tcp, Buffer.from(EICAR))).toEqual({ status: 'infected', signature: 'Rampart.Test.EICAR.UNOFFICIAL' });
    expect(await scan(clamd.unix, makeZip([{ name: 'readme.txt', data: Buffer.from(EICAR) }]))).toMatchObject({ status: 'infected' });
    expect(await scan(clamd.unix, Buffer.concat([png(), Buffer.from(TEST_MALWARE)]))).toEqual({ status: 'infected', signature: 'Rampart.Test.Pattern.UNOFFICIAL' });
  });

  it('refuses files above the stream limit before sending, and maps clamd\'s own limit', async () => {
    await expect(scan(clamd.unix, Buffer.alloc(2048), 1024)).rejects.toBeInstanceOf(ScanTooLarge);
    // Our limit says yes, clamd's StreamMaxLength (1 MiB) says no.
    // clamd may close the socket before its reply is read: either way the scan fails closed.
    await expect(scan(clamd.unix, Buffer.alloc(3 * 1024 * 1024), 10 * 1024 * 1024)).rejects.toSatisfy((e) => e instanceof ScanTooLarge || e instanceof ScannerUnavailable);
  });
});

describe('ClamdClient when clamd is not there', () => {
  let silent: Server;
  let silentPort = 0;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers: the deadline must end the scan.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('fails with ScannerUnavailable on a refused connection, a missing socket, and a timeout', async () => {
    await expect(scan('tcp://127.0.0.1:1', Buffer.from('x'))).rejects.toBeInstanceOf(ScannerUnavailable);
    await expect(scan('unix:/nonexistent/clamd.sock', Buffer.from('x'))).rejects.toBeInstanceOf(ScannerUnavailable);
    await expect(new ClamdClient({ address: `tcp://127.0.0.1:${silentPort}`, timeoutMs: 200, maxBytes: 10 }).scan(Readable.from([Buffer.from('x')]), 1)).rejects.toBeInstanceOf(ScannerUnavailable);
  });

  it('parses addresses', () => {
    expect(parseClamdAddress('tcp://127.0.0.1:3310')).toEqual({ host: '127.0.0.1', port: 3310 });
    expect(parseClamdAddress('tcp://[::1]:3310')).toEqual({ host: '::1', port: 3310 });
    expect(parseClamdAddress('unix:/run/clamav/clamd.ctl')).toEqual({ path: '/run/clamav/clamd.ctl' });
    expect(() => parseClamdAddress('127.0.0.1:3310')).toThrow();
  });
});
