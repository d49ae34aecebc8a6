/**
 * Minimal reverse proxies that bound what any Node.js gateway can reach on the benchmark layout
 * (`npm run bench -- --floor`). None of them is a product: no header hygiene, no limits, no timeouts
 * towards the client, no logging, no metrics, GET only. They answer one question: how many requests
 * per second does a Node.js process serve when it does nothing but forward?
 *
 *   node --import tsx bench/support/floor-proxy.ts MODE PORT UPSTREAM_URL
 *
 * MODE: `undici` — `http.createServer` + undici `Pool` (the reference the foundation issue quotes);
 * `http` — `http.createServer` + Rampart's upstream client; `raw` — a `net` server parsing requests
 * with Node's native llhttp binding + Rampart's upstream client, one write per response.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { HTTPParser, methods } from '_http_common';
import { Pool } from 'undici';
import { UpstreamPool, type HeaderRecord } from '../../src/server/upstream-client.js';

const [mode, portText, upstreamUrl] = process.argv.slice(2);
if (mode === undefined || portText === undefined || upstreamUrl === undefined || !['undici', 'http', 'raw'].includes(mode)) {
  console.error('usage: floor-proxy.ts undici|http|raw PORT UPSTREAM_URL');
  process.exit(2);
}
const port = Number(portText);
const origin = new URL(upstreamUrl);
const pool = new UpstreamPool(origin, { connections: 64, connectTimeoutMs: 5000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, keepAliveTimeoutMs: 4000 });
const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(', ') : (v ?? ''));

if (mode === 'undici') {
  const undici = new Pool(origin, { connections: 64 });
  createHttpServer((req, res) => {
    undici.request({ method: 'GET', path: req.url ?? '/' }).then(
      async (r) => {
        res.writeHead(r.statusCode, { 'content-type': one(r.headers['content-type']), 'content-length': one(r.headers['content-length']) });
        for await (const chunk of r.body) res.write(chunk);
        res.end();
      },
      () => res.destroy(),
    );
  }).listen(port, '127.0.0.1');
} else if (mode === 'http') {
  createHttpServer((req, res) => {
    pool.request({ method: 'GET', path: req.url ?? '/', headers: { host: origin.host }, body: null }, {
      onHead: (status: number, headers: HeaderRecord) => res.writeHead(status, { 'content-type': one(headers['content-type']), 'content-length': one(headers['content-length']) }),
      onData: (chunk: Buffer) => res.write(chunk),
      onEnd: () => res.end(),
      onError: () => res.destroy(),
    });
  }).listen(port, '127.0.0.1');
} else {
  const { kOnHeadersComplete, kOnBody, kOnMessageComplete } = HTTPParser;
  createNetServer((socket) => {
    socket.setNoDelay(true);
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.REQUEST, {}, 16384, 0);
    parser[kOnHeadersComplete] = (_major: number, _minor: number, _pairs: string[], method: number, url: string): number => {
      let head = '';
      const chunks: Buffer[] = [];
      pool.request({ method: methods[method] ?? 'GET', path: url, headers: { host: origin.host }, body: null }, {
        onHead: (status: number, headers: HeaderRecord) => {
          head = `HTTP/1.1 ${status} OK\r\ncontent-type: ${one(headers['content-type'])}\r\ncontent-length: ${one(headers['content-length'])}\r\n\r\n`;
        },
        onData: (chunk: Buffer) => chunks.push(chunk) > 0,
        onEnd: () => {
          socket.cork();
          socket.write(head, 'latin1');
          for (const c of chunks) socket.write(c);
          socket.uncork();
        },
        onError: () => socket.destroy(),
      });
      return 0;
    };
    parser[kOnBody] = () => undefined;
    parser[kOnMessageComplete] = () => undefined;
    socket.on('data', (data: Buffer) => {
      if (parser.execute(data) instanceof Error) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
  }).listen(port, '127.0.0.1');
}
