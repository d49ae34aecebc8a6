/**
 * A listener the scanner runs on loopback. The target is invited to fetch `url(token)`: a hit
 * proves server-side request forgery (API7), and the hostile document it serves tests whether the
 * target consumes third-party data unsafely (API10). The scanner itself never sends anything here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/** Payloads in the document served to the target; checks look for their unsafe echoes. */
export const HOSTILE = {
  html: '<script>alert(7331)</script>',
  template: '{{7*191919}}${7*191919}<%= 7*191919 %>',
  /** 7*191919: a value that appears only if a template engine evaluated the payload. */
  evaluated: '1343433',
  sql: "rampart' OR '1'='1",
} as const;

export interface Canary {
  /** A fresh URL on the canary that identifies one probe. */
  url(token: string): string;
  token(): string;
  /** How many requests arrived for `token`. */
  hits(token: string): number;
  close(): Promise<void>;
}

/**
 * @example
 *   const canary = await startCanary();
 *   const t = canary.token(); await probe(canary.url(t)); if (canary.hits(t) > 0) { ... }
 */
export async function startCanary(host = '127.0.0.1'): Promise<Canary> {
  const hits = new Map<string, number>();
  const body = JSON.stringify({
    id: 1,
    name: HOSTILE.html,
    title: HOSTILE.template,
    description: HOSTILE.sql,
    items: [{ name: HOSTILE.html, title: HOSTILE.template, description: HOSTILE.sql }],
  });
  const server: Server = createServer((req, res) => {
    const token = /^\/c\/([a-f0-9]{16})/.exec(req.url ?? '')?.[1];
    if (token !== undefined) hits.set(token, (hits.get(token) ?? 0) + 1);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: (token) => `http://${host}:${port}/c/${token}`,
    token: () => randomBytes(8).toString('hex'),
    hits: (token) => hits.get(token) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
