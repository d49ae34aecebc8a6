/**
 * `npm run bench`: Rampart against the bare upstream and nginx, in one run and one layout.
 *
 * Layout (2-core machine): the load generator pinned to core 0; the upstream and the proxy under
 * test pinned together to core 1. Upstream: nginx serving a static ~100-byte JSON (a minimal Node
 * server when nginx is missing). Load: wrk -t1 -c50 (autocannon when wrk is missing). Several
 * rounds, medians. Targets: (a) bare upstream, (b) nginx reverse proxy with upstream keep-alive,
 * (c) Rampart with no stages, (d) Rampart with the demo route's stage list — plain HTTP, then TLS.
 *
 * Options: --rounds N (3), --duration S (10), --connections N (50), --out FILE (JSON results),
 * --stages (also single-stage variants: access log off, api_key, rate limits in memory and on
 * Redis, openapi, waf — each compared with Rampart's no-stage figure).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(ROOT, '.rampart', 'bench');
/** ~100 bytes, and a valid `GET /pets` answer of the demo OpenAPI document (the demo stages validate responses). */
const BODY = '{"items":[{"id":42,"name":"Rex","species":"dog","owner":"alice","notes":"good boy"}],"total":1}';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string' },
    only: { type: 'string' },
    /** Also measure single stages against Rampart with no stages (plain HTTP). */
    stages: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const children: ChildProcess[] = [];
function start(cmd: string, args: string[], core: number | undefined, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const pinned = core !== undefined && has('taskset');
  const child = spawn(pinned ? 'taskset' : cmd, pinned ? ['-c', String(core), cmd, ...args] : args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null && !stopping) process.stderr.write(`[bench] ${cmd} exited ${code}: ${err}\n`);
  });
  children.push(child);
  return child;
}
let stopping = false;
function stopAll(): void {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

async function waitFor(url: string, insecure = false, headers: Record<string, string> = {}): Promise<void> {
  const { request, Agent } = await import('undici');
  const dispatcher = new Agent({ connect: { rejectUnauthorized: !insecure } });
  for (let i = 0; i < 100; i++) {
    try {
      const res = await request(url, { dispatcher, headers });
      await res.body.dump();
      if (res.statusCode === 200) return;
      if (res.statusCode < 500 && i > 20) throw new Error(`${url} answers ${res.statusCode}`);
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

async function load(url: string, headers: Record<string, string>): Promise<Result> {
  if (has('wrk')) {
    const args = ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
    const out = execFileSync(has('taskset') ? 'taskset' : 'wrk', has('taskset') ? ['-c', '0', 'wrk', ...args] : args, { encoding: 'utf8' });
    const ms = (label: string): number => {
      const m = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
      if (m === null) return NaN;
      return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
    };
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
      p50: ms('50'),
      p99: ms('99'),
      errors: non2xx + (sockErr === null ? 0 : sockErr.slice(1).reduce((a, b) => a + Number(b), 0)),
    };
  }
  const autocannon = (await import('autocannon')).default;
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.non2xx + r.errors };
}

/** A consumer with the demo's `user` role and an API key, created in the bench store before the gateways start. */
async function provisionKey(configFile: string): Promise<string> {
  const { loadConfigFile } = await import('../src/config/load.js');
  const { openKeyComponents } = await import('../src/keys/open.js');
  const pino = (await import('pino')).default;
  const loaded = loadConfigFile(configFile);
  const components = await openKeyComponents(loaded.config, loaded.baseDir, pino({ level: 'silent' }));
  const now = Date.now();
  await components.store.createConsumer({ id: 'bench', name: 'bench', roles: ['user'], scopes: [], tenant: null, metadata: {}, status: 'active', createdAt: now, updatedAt: now });
  const consumer = (await components.store.getConsumer('bench'))!;
  const { key } = await components.keys.create({ consumer, scopes: null, roles: null, expiresAt: null, createdBy: 'bench' });
  await components.close();
  return key;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  execFileSync('bash', [join(ROOT, 'scripts/install-bench-tools.sh')], { stdio: 'inherit' });
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const useNginx = has('nginx');
  const [upPort, ngxPort, ngxTlsPort, rPlain, rTls, rFull, rFullTls] = (await Promise.all(Array.from({ length: 7 }, freePort))) as [number, number, number, number, number, number, number];

  // TLS material shared by nginx and Rampart: Rampart's development certificate.
  const { resolveCertificate } = await import('../src/server/tls.js');
  const pino = (await import('pino')).default;
  const cert = await resolveCertificate({}, WORK, pino({ level: 'silent' }));

  // (a) the upstream
  if (useNginx) {
    writeFileSync(join(WORK, 'upstream.conf'), `worker_processes 1; daemon off; pid ${WORK}/upstream.pid; error_log ${WORK}/upstream-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:${upPort}; location / { default_type application/json; return 200 '${BODY}'; } } }`);
    start('nginx', ['-c', join(WORK, 'upstream.conf'), '-p', WORK], 1);
    // (b) nginx as a plain reverse proxy with upstream keep-alive, plain and TLS
    writeFileSync(join(WORK, 'proxy.conf'), `worker_processes 1; daemon off; pid ${WORK}/proxy.pid; error_log ${WORK}/proxy-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream up { server 127.0.0.1:${upPort}; keepalive 64; }
  server { listen 127.0.0.1:${ngxPort}; listen 127.0.0.1:${ngxTlsPort} ssl;
    ssl_certificate ${cert.cert}; ssl_certificate_key ${cert.key}; ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }`);
    start('nginx', ['-c', join(WORK, 'proxy.conf'), '-p', WORK], 1);
  } else {
    const script = join(WORK, 'upstream.mjs');
    writeFileSync(script, `import http from 'node:http'; const b = ${JSON.stringify(BODY)};
http.createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) }); s.end(b); }).listen(${upPort}, '127.0.0.1');`);
    start(process.execPath, [script], 1);
  }

  // (c) Rampart, no stages; (d) the demo route's stage list — each on plain HTTP (serve mode) and TLS.
  // (d) keeps every stage of rampart.yaml's `pets` route and its top-level sections (authorization,
  // oauth, …), authenticates with a real API key, and only raises the per-consumer rate limit so the
  // load generator is measured rather than refused.
  const demo = parseYaml(readFileSync(join(ROOT, 'rampart.yaml'), 'utf8')) as Record<string, unknown> & { routes?: { id: string; path: string; stages?: Record<string, unknown>[] }[] };
  const demoRoute = demo.routes?.find((r) => r.id === 'pets');
  const demoStages = (demoRoute?.stages ?? []).map((st) => (st.type === 'rate-limit' ? { ...st, rate: { limit: 1_000_000_000, windowSeconds: 1, burst: 1_000_000 } } : st));
  const { listeners: _l, admin: _a, store: _s, upstreams: _u, routes: _r, secrets: _sec, ...topLevel } = demo;
  const shared = {
    ...topLevel,
    admin: { enabled: false },
    store: `sqlite:${join(WORK, 'bench.db')}`,
    secrets: { pepper: 'bench-pepper-0123456789abcdef0123456789', masterKey: `bench:${Buffer.alloc(32, 7).toString('base64')}` },
    upstreams: { up: { url: `http://127.0.0.1:${upPort}` } },
  };
  const rampartConfig = (http: number, https: number, stages: unknown[]): string =>
    stringify({
      ...shared,
      listeners: { https: { port: https, host: '127.0.0.1', cert: cert.cert, key: cert.key }, http: { port: http, host: '127.0.0.1', mode: 'serve' } },
      routes: [{ id: 'pets', path: demoRoute?.path ?? '/pets/**', upstream: 'up', stages }],
    });
  // Written beside rampart.yaml so that relative paths in the demo stages resolve the same way.
  const plainFile = join(ROOT, '.bench-nostages.yaml');
  const fullFile = join(ROOT, '.bench-demo-stages.yaml');
  const benchFiles = [plainFile, fullFile];
  writeFileSync(plainFile, rampartConfig(rPlain, rTls, []));
  writeFileSync(fullFile, rampartConfig(rFull, rFullTls, demoStages));
  const apiKey = await provisionKey(fullFile);
  const cli = join(ROOT, 'dist/cli/main.js');
  start(process.execPath, [cli, 'start', '--config', plainFile], 1);
  start(process.execPath, [cli, 'start', '--config', fullFile], 1);
  const auth = { 'x-api-key': apiKey };

  const huge = { limit: 1_000_000_000, windowSeconds: 1, burst: 1_000_000 };
  const variants: { name: string; stages: unknown[]; extra?: Record<string, unknown>; headers?: Record<string, string> }[] = values.stages
    ? [
        { name: 'rampart, access log off', stages: [], extra: { log: { access: false } } },
        { name: 'rampart, api_key', stages: [{ type: 'api_key', header: 'X-API-Key' }, { type: 'authorize', anyAuthenticated: true }], headers: auth },
        { name: 'rampart, rate-limit (memory)', stages: [{ type: 'rate-limit', by: ['ip'], rate: huge }] },
        { name: 'rampart, rate-limit (redis)', stages: [{ type: 'rate-limit', by: ['ip'], rate: huge }], extra: { counters: `redis://127.0.0.1:6379?prefix=rampart-bench-${process.pid}:` } },
        { name: 'rampart, openapi', stages: [{ type: 'openapi', spec: 'src/demo/pets.openapi.yaml' }] },
        { name: 'rampart, waf', stages: [{ type: 'waf', mode: 'block' }] },
      ]
    : [];
  const variantTargets: { name: string; url: string; group: 'http'; headers?: Record<string, string> }[] = [];
  for (const [i, v] of variants.entries()) {
    const [http, https] = [await freePort(), await freePort()];
    const file = join(ROOT, `.bench-stage-${i}.yaml`);
    writeFileSync(file, stringify({ ...parseYaml(rampartConfig(http, https, v.stages)), ...v.extra }));
    start(process.execPath, [cli, 'start', '--config', file], 1);
    variantTargets.push({ name: v.name, url: `http://127.0.0.1:${http}/pets`, group: 'http', ...(v.headers ? { headers: v.headers } : {}) });
    benchFiles.push(file);
  }

  const targets: { name: string; url: string; group: 'http' | 'tls'; headers?: Record<string, string> }[] = [
    { name: 'upstream direct', url: `http://127.0.0.1:${upPort}/pets`, group: 'http' as const },
    ...(useNginx ? [{ name: 'nginx proxy', url: `http://127.0.0.1:${ngxPort}/pets`, group: 'http' as const }] : []),
    { name: 'rampart, no stages', url: `http://127.0.0.1:${rPlain}/pets`, group: 'http' as const },
    { name: 'rampart, demo stages', url: `http://127.0.0.1:${rFull}/pets`, group: 'http' as const, headers: auth },
    ...variantTargets,
    ...(useNginx ? [{ name: 'nginx proxy (TLS)', url: `https://127.0.0.1:${ngxTlsPort}/pets`, group: 'tls' as const }] : []),
    { name: 'rampart, no stages (TLS)', url: `https://127.0.0.1:${rTls}/pets`, group: 'tls' as const },
    { name: 'rampart, demo stages (TLS)', url: `https://127.0.0.1:${rFullTls}/pets`, group: 'tls' as const, headers: auth },
  ].filter((t) => values.only === undefined || t.name.includes(values.only));
  for (const t of targets) await waitFor(t.url, true, t.headers);

  const runs = new Map<string, Result[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      process.stderr.write(`[bench] round ${round}/${ROUNDS}: ${t.name} ...`);
      const r = await load(t.url, t.headers ?? {});
      process.stderr.write(` ${Math.round(r.rps)} req/s\n`);
      runs.get(t.name)!.push(r);
    }
  }
  const summary = targets.map((t) => {
    const rs = runs.get(t.name)!;
    return { name: t.name, group: t.group, rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((a, r) => a + r.errors, 0) };
  });
  const ref = (group: string): number | undefined => summary.find((s) => s.group === group && s.name.startsWith('nginx'))?.rps;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nMachine: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`Load: ${has('wrk') ? 'wrk -t1' : 'autocannon'} -c${CONNECTIONS}, ${DURATION} s × ${ROUNDS} rounds (medians); upstream: ${useNginx ? 'nginx static JSON' : 'Node static JSON'}; pinning: ${has('taskset') ? 'load core 0, upstream+proxy core 1' : 'none (taskset missing)'}\n`);
  const bare = (group: string): number | undefined => summary.find((s) => s.group === group && s.name.startsWith('rampart, no stages'))?.rps;
  console.log('| target | req/s | p50 ms | p99 ms | ratio to nginx | ratio to rampart, no stages | errors |');
  console.log('|---|---|---|---|---|---|---|');
  for (const s of summary) {
    const r = ref(s.group);
    const b = s.name.startsWith('rampart') ? bare(s.group) : undefined;
    console.log(`| ${s.name} | ${Math.round(s.rps).toLocaleString('en-US')} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${r === undefined ? '—' : (s.rps / r).toFixed(2)} | ${b === undefined ? '—' : (s.rps / b).toFixed(2)} | ${s.errors} |`);
  }
  if (values.out !== undefined) writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), cpu, summary, runs: Object.fromEntries(runs) }, null, 2));
  for (const f of benchFiles) if (existsSync(f)) rmSync(f);
  stopAll();
}

main().catch((err: unknown) => {
  console.error(`[bench] ${(err as Error).message}`);
  stopAll();
  process.exit(1);
});
