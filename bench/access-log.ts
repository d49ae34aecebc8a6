/**
 * Access-log cost: the same in-process gateway (plain HTTP listener, built-in pets API, GET /pets)
 * under autocannon with `log.access` on and off, alternating, logging to a real file through the
 * asynchronous pino destination. Usage: `npx tsx bench/access-log.ts [seconds] [connections] [rounds]`.
 */
import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Gateway } from '../src/server/gateway.js';
import { createLogger } from '../src/server/logger.js';

const [seconds = 10, connections = 50, rounds = 2] = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-'));

async function measure(access: boolean): Promise<{ rps: number; p99: number; logBytes: number; cpuPerRequest: number }> {
  const configFile = join(dir, `rampart-${access}.yaml`);
  writeFileSync(
    configFile,
    `listeners:
  https: { enabled: false }
  http: { host: 127.0.0.1, port: 0, mode: serve }
admin: { enabled: false }
store: sqlite:bench.db
log: { access: ${access} }
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - { id: pets, path: "/pets/**", upstream: pets }
`,
  );
  const logFile = join(dir, `access-${access}-${Date.now()}.log`);
  const gateway = await Gateway.start({ configFile, watch: false, logger: createLogger('info', logFile) });
  const url = `http://127.0.0.1:${gateway.ports.http}/pets?page=2&token=abc`;
  await autocannon({ url, connections, duration: 2 }); // warm-up (JIT, keep-alive pools)
  const cpu = process.cpuUsage();
  const result = await autocannon({ url, connections, duration: seconds });
  const used = process.cpuUsage(cpu);
  await gateway.stop();
  await new Promise((r) => setTimeout(r, 200));
  // Client, gateway and demo upstream share this process: CPU per request includes all three.
  return { rps: result.requests.average, p99: result.latency.p99, logBytes: statSync(logFile).size, cpuPerRequest: (used.user + used.system) / result.requests.total };
}

const results: Record<'on' | 'off', number[]> = { on: [], off: [] };
const cpu: Record<'on' | 'off', number[]> = { on: [], off: [] };
for (let r = 0; r < rounds; r++) {
  for (const access of [false, true]) {
    const m = await measure(access);
    results[access ? 'on' : 'off'].push(m.rps);
    cpu[access ? 'on' : 'off'].push(m.cpuPerRequest);
    console.log(`round ${r + 1} access log ${access ? 'on ' : 'off'}: ${m.rps.toFixed(0)} req/s, p99 ${m.p99} ms, ${m.cpuPerRequest.toFixed(0)} µs CPU/request, log ${(m.logBytes / 1024).toFixed(0)} KiB`);
  }
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`CPU per request: off ${mean(cpu.off).toFixed(0)} µs, on ${mean(cpu.on).toFixed(0)} µs → on/off ${((mean(cpu.off) / mean(cpu.on)) * 100).toFixed(1)}% (throughput ratio implied by CPU)`);
console.log(`mean off ${mean(results.off).toFixed(0)} req/s, on ${mean(results.on).toFixed(0)} req/s → on/off ${((mean(results.on) / mean(results.off)) * 100).toFixed(1)}%`);
