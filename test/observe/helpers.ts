/** Shared pieces of the observe tests: a real webhook receiver, a tiny upstream, log capture. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { Gateway } from '../../src/server/gateway.js';
import { tempDir } from '../helpers/gateway.js';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP server on port 0 that records every request and answers `status()`. */
export async function startReceiver(status: () => number = () => 204): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(status()).end();
    });
  });
  await listen(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: () => close(server) };
}

/** An upstream API with its own check: `Authorization: Bearer good` or 401. */
export async function startAuthUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    const ok = req.headers.authorization === 'Bearer good';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"ok":true}' : '{"error":"unauthorized"}');
  });
  await listen(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => close(server) };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}
function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A manual clock. */
export function manualClock(start = 1_800_000_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** Starts an in-process gateway whose log lines are captured in memory (synchronously). */
export async function startObservedGateway(yaml: string, now?: () => number): Promise<{ gateway: Gateway; dir: string; configFile: string; https: string; lines: () => string[]; stop(): Promise<void> }> {
  const dir = tempDir();
  const configFile = join(dir, 'rampart.yaml');
  writeFileSync(configFile, yaml);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const gateway = await Gateway.start({ configFile, watch: false, logger, now });
  return { gateway, dir, configFile, https: `https://127.0.0.1:${gateway.ports.https}`, lines: () => lines, stop: () => gateway.stop() };
}
