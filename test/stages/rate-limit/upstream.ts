/** A small real upstream for rate-limit tests: `/login` checks HTTP Basic, `/slow` waits for the test. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestUpstream {
  url: string;
  /** Responds to every waiting `/slow` request. */
  releaseSlow(): void;
  /** Number of `/slow` requests waiting. */
  waiting(): number;
  close(): Promise<void>;
}

export const GOOD_BASIC = `Basic ${Buffer.from('alice:right').toString('base64')}`;
export const BAD_BASIC = `Basic ${Buffer.from('alice:wrong').toString('base64')}`;

export async function startTestUpstream(): Promise<TestUpstream> {
  let slow: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const reply = (status: number): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status }));
    };
    if (req.url?.startsWith('/login')) return reply(req.headers.authorization === GOOD_BASIC ? 200 : 401);
    if (req.url?.startsWith('/slow')) {
      slow.push(() => reply(200));
      return;
    }
    reply(200);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    releaseSlow() {
      const waiting = slow;
      slow = [];
      for (const done of waiting) done();
    },
    waiting: () => slow.length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
