/**
 * A throwaway ClamAV daemon for tests: real `clamd` (Debian clamav-daemon, installed by
 * scripts/ensure-clamav.sh from the global setup) on a temp unix socket and a free TCP port, with a
 * signature database written here, since no signature download is possible: the EICAR test string
 * and a pattern of our own. Start-up with two signatures takes about 0.1 s.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ClamdClient } from '../../src/upload/clamd.js';
import { tempDir } from './gateway.js';

/** The EICAR anti-virus test file (68 bytes): harmless, detected by every scanner. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** A pattern of our own that the test database flags as malware. */
export const TEST_MALWARE = 'RAMPART-TEST-MALWARE-PATTERN-0c9a4e';

export interface TestClamd {
  /** `unix:/…/clamd.sock` */
  readonly unix: string;
  /** `tcp://127.0.0.1:PORT` */
  readonly tcp: string;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago (clamd cannot be told to pick one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts clamd and resolves once it answers PING on both sockets. */
export async function startClamd(options: { streamMaxBytes?: number } = {}): Promise<TestClamd> {
  const dir = tempDir('rampart-clamd-');
  const db = join(dir, 'db');
  mkdirSync(db);
  const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
  writeFileSync(join(db, 'rampart-test.ndb'), `Rampart.Test.EICAR:0:*:${hex(EICAR)}\nRampart.Test.Pattern:0:*:${hex(TEST_MALWARE)}\n`);
  const socket = join(dir, 'clamd.sock');
  const port = await freePort();
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [
      'Foreground yes',
      `LocalSocket ${socket}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `DatabaseDirectory ${db}`,
      `LogFile ${join(dir, 'clamd.log')}`,
      `StreamMaxLength ${options.streamMaxBytes ?? 30 * 1024 * 1024}`,
      'SelfCheck 0',
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/clamd', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const unix = `unix:${socket}`;
  const tcp = `tcp://127.0.0.1:${port}`;
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      // A throwaway daemon: SIGTERM makes clamd wait ~2 s for its threads, SIGKILL does not.
      child.kill('SIGKILL');
    });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`clamd exited with ${child.exitCode}: ${stderr}`);
    const ok = (await new ClamdClient({ address: unix, timeoutMs: 500, maxBytes: 1 }).ping()) && (await new ClamdClient({ address: tcp, timeoutMs: 500, maxBytes: 1 }).ping());
    if (ok) return { unix, tcp, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`clamd did not answer: ${stderr}`);
}
