/**
 * `npx tsx bench/auth.ts [--duration S] [--rounds N] [--connections N]`: requests/s through an
 * in-process gateway (plain HTTP listener in serve mode, built-in pets upstream) for one route
 * without authentication and the same route behind a `jwt` stage (ES256, static key), with and
 * without the verified-token cache. Load from autocannon in a separate process; medians of rounds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { Gateway } from '../src/server/gateway.js';
import { benchArgs } from './support/args.js';

const { values } = benchArgs({ options: { duration: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '50' } } });

const { privateKey, publicKey } = await generateKeyPair('ES256');
const pem = (await exportSPKI(publicKey)).trim().replace(/\n/g, '\\n');
const token = await new SignJWT({ scope: 'pets:read' }).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://idp.bench').setAudience('pets-api').setSubject('bench').setExpirationTime('2h').setJti('bench-1').sign(privateKey);
const jwt = (cache: number): string => `[{ type: jwt, issuer: "https://idp.bench", audience: pets-api, algorithms: [ES256], pem: ["${pem}"], cacheEntries: ${cache} }]`;

const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-auth-'));
const file = join(dir, 'rampart.yaml');
writeFileSync(
  file,
  `listeners:
  https: { enabled: false }
  http: { port: 0, host: 127.0.0.1, mode: serve }
admin: { enabled: false }
log: { level: warn, access: false }
upstreams:
  pets: { url: "builtin:pets" }
routes:
  - { id: none, path: /none/**, upstream: pets, stripPrefix: /none }
  - { id: jwt, path: /jwt/**, upstream: pets, stripPrefix: /jwt, stages: ${jwt(10_000)} }
  - { id: jwt-nocache, path: /jwt-nocache/**, upstream: pets, stripPrefix: /jwt-nocache, stages: ${jwt(0)} }
`,
);
const gateway = await Gateway.start({ configFile: file, watch: false, logger: pino({ level: 'warn' }) });
const base = `http://127.0.0.1:${gateway.ports.http}`;

// Asynchronous on purpose: the gateway under test runs in this process's event loop.
async function run(path: string, auth: boolean): Promise<number> {
  const args = ['autocannon', '-j', '-c', values.connections!, '-d', values.duration!];
  if (auth) args.push('-H', `authorization=Bearer ${token}`);
  args.push(`${base}${path}`);
  const { stdout } = await promisify(execFile)('npx', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const out = JSON.parse(stdout) as { requests: { average: number }; non2xx: number };
  if (out.non2xx > 0) throw new Error(`${path}: ${out.non2xx} non-2xx responses`);
  return out.requests.average;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, number[]> = { none: [], jwt: [], 'jwt-nocache': [] };
for (let r = 0; r < Number(values.rounds); r++) {
  results.none!.push(await run('/none/pets/1', false));
  results.jwt!.push(await run('/jwt/pets/1', true));
  results['jwt-nocache']!.push(await run('/jwt-nocache/pets/1', true));
}
await gateway.stop();
const none = median(results.none!);
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(`${name.padEnd(12)} ${m.toFixed(0).padStart(7)} req/s  (${((m / none) * 100).toFixed(1)}% of no auth; rounds: ${xs.map((x) => x.toFixed(0)).join(', ')})`);
}
