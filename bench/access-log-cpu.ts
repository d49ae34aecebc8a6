/**
 * CPU cost of one access-log line (build + redact + serialise + asynchronous file write), measured
 * with process.cpuUsage so that other load on the machine does not distort it.
 * Usage: `npx tsx bench/access-log-cpu.ts [lines]`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestContext } from '../src/core/context.js';
import { AccessLog } from '../src/observe/access-log.js';
import { Redactor } from '../src/observe/redact.js';
import { createLogger } from '../src/server/logger.js';

const lines = Number(process.argv[2] ?? 200_000);
const file = join(mkdtempSync(join(tmpdir(), 'rampart-bench-')), 'access.log');
const logger = createLogger('info', file);
const access = new AccessLog(logger);
const redactor = new Redactor({ queryValues: ['page'] });
// The access log reads only these request/response facts.
const req = { method: 'GET', headers: {} } as unknown as IncomingMessage;
const res = { statusCode: 200 } as unknown as ServerResponse;
const ctx = new RequestContext({ id: 'b3b22d7f-2203-4710-9d93-0ac83c831e89', req, res, secure: true, peerIp: '203.0.113.9', host: 'api.example.com', rawPath: '/pets/42', query: 'page=2&token=abc', maxBodyBytes: 1 << 20 });
ctx.status = 200;
ctx.bytesOut = 205;
ctx.upstreamHeaders['traceparent'] = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

for (let i = 0; i < 20_000; i++) access.write(ctx, redactor, []); // warm-up
const start = process.cpuUsage();
for (let i = 0; i < lines; i++) access.write(ctx, redactor, []);
// Count the writes too: wait until the asynchronous destination has written everything.
await new Promise<void>((resolve) => logger.flush(() => resolve()));
const used = process.cpuUsage(start);
const micros = (used.user + used.system) / lines;
console.log(`${lines} lines, ${(statSync(file).size / (lines + 20_000)).toFixed(0)} bytes each: ${micros.toFixed(2)} µs CPU per line (user+system)`);
