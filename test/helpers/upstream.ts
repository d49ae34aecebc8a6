/** A real upstream for tests: records every request it receives and answers with JSON about it. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestUpstream {
  url: string;
  received: Received[];
  server: Server;
  close(): Promise<void>;
}

/**
 * `handler` may answer itself (for slow, huge or broken responses); by default the upstream echoes
 * what it got: `{ method, url, headers, body }` plus a `Server` and `X-Powered-By` header to strip.
 */
export async function startUpstream(handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<TestUpstream> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    if (handler !== undefined && req.url?.startsWith('/stream')) {
      handler(req, res, '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (handler !== undefined) {
        handler(req, res, body);
        return;
      }
      const text = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', server: 'secret-upstream/1.2', 'x-powered-by': 'PHP/5.1' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
