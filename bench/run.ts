/**
 * `npm run bench`: Rampart against the bare upstream and nginx, in one run and one layout.
 *
 * Layout (2-core machine): the load generator pinned to core 0; the upstream and the proxy under
 * test pinned together to core 1. Upstream: nginx serving a static ~100-byte JSON (a minimal Node
 * server when nginx is missing). Load: wrk -t1 -c50 (autocannon when wrk is missing). Several
 * rounds, medians; with --stages, each Rampart variant is also measured next to a fresh run of its
 * no-stage baseline (order alternating by round) and its paired ratio is the median of those
 * per-round ratios. Targets: (a) bare upstream, (b) nginx reverse proxy with upstream keep-alive,
 * (c) Rampart with no stages, (d) Rampart with the demo route's stage list — plain HTTP, then TLS.
 *
 * Options: --only 'A|B' (targets whose name contains A or B), --rounds N (3), --duration S (10), --warmup S (3: an unmeasured run per target first, so
 * JIT compilation and connection set-up stay out of the figures), --connections N (50), --out FILE (JSON results),
 * --stages (also single-stage variants: access log off, api_key, jwt, rate limits in memory and on
 * Redis, openapi, waf — each compared with Rampart's no-stage figure), --floor (also three minimal
 * Node.js proxies that only forward — bench/support/floor-proxy.ts — measured like the rest: the
 * ceiling any Node.js gateway has on this layout).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import { PET_NOTES } from './support/bodies.js';
import { benchArgs } from './support/args.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(ROOT, '.rampart', 'bench');
/** ~100 bytes, and a valid `GET /pets` answer of the demo OpenAPI document (the demo stages validate responses). */
const BODY = '{"items":[{"id":42,"name":"Rex","species":"dog","owner":"alice","notes":"good boy"}],"total":1}';
/** The upstream's answer to `POST /pets`: a valid `201` of the demo document. */
const CREATED = '{"id":43,"name":"Rex","species":"dog","owner":"bench","notes":"good boy"}';
/** A ~1 KB `POST /pets` body of free text, valid for the demo document (issue #7's body benchmark). */
const POST_BODY = JSON.stringify({
  name: 'Rex the second',
  species: 'dog',
  notes: PET_NOTES,
});

const { values } = benchArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string' },
    only: { type: 'string' },
    /** Also measure single stages against Rampart with no stages (plain HTTP). */
    stages: { type: 'boolean', default: false },
    /** Also measure minimal forward-only Node.js proxies (the floor of a Node.js process's cost). */
    floor: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const DURATION = Number(values.duration);
const WARMUP = Number(values.warmup);
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

/** A wrk script that POSTs `body` as JSON. */
function postScript(body: string): string {
  const file = join(WORK, `post-${body.length}.lua`);
  writeFileSync(file, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  return file;
}

async function load(url: string, headers: Record<string, string>, duration = DURATION, body?: string): Promise<Result> {
  if (has('wrk')) {
    const script = body === undefined ? [] : ['-s', postScript(body)];
    const args = ['-t1', `-c${CONNECTIONS}`, `-d${duration}s`, '--latency', ...script, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
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
  const post = body === undefined ? {} : { method: 'POST' as const, body, headers: { ...headers, 'content-type': 'application/json' } };
  const r = await autocannon({ url, connections: CONNECTIONS, duration, headers, ...post });
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
  server { listen 127.0.0.1:${upPort}; location / { default_type application/json; if ($request_method = POST) { return 201 '${CREATED}'; } return 200 '${BODY}'; } } }`);
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
const c = ${JSON.stringify(CREATED)};
http.createServer((q, s) => { q.resume(); const out = q.method === 'POST' ? c : b; s.writeHead(q.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }); s.end(out); }).listen(${upPort}, '127.0.0.1');`);
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
  // A token of an external IdP whose public key the jwt variant holds statically (no network at run time).
  const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
  const idp = await generateKeyPair('ES256');
  const idpJwk = { ...(await exportJWK(idp.publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
  const jwtToken = await new SignJWT({ scope: 'pets:read', roles: ['user'] })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
    .setIssuer('https://idp.bench.test')
    .setAudience('pets-api')
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(idp.privateKey);

  const huge = { limit: 1_000_000_000, windowSeconds: 1, burst: 1_000_000 };
  const variants: { name: string; stages: unknown[]; extra?: Record<string, unknown>; headers?: Record<string, string>; body?: string; baseline?: string }[] = values.stages
    ? [
        { name: 'rampart, access log off', stages: [], extra: { log: { access: false } } },
        { name: 'rampart, api_key', stages: [{ type: 'api_key', header: 'X-API-Key' }, { type: 'authorize', anyAuthenticated: true }], headers: auth },
        {
          name: 'rampart, jwt',
          stages: [{ type: 'jwt', issuer: 'https://idp.bench.test', audience: 'pets-api', algorithms: ['ES256'], keys: [idpJwk] }, { type: 'authorize', anyAuthenticated: true }],
          headers: { authorization: `Bearer ${jwtToken}` },
        },
        { name: 'rampart, rate-limit (memory)', stages: [{ type: 'rate-limit', by: ['ip'], rate: huge }] },
        { name: 'rampart, rate-limit (redis)', stages: [{ type: 'rate-limit', by: ['ip'], rate: huge }], extra: { counters: `redis://127.0.0.1:6379?prefix=rampart-bench-${process.pid}:` } },
        { name: 'rampart, openapi', stages: [{ type: 'openapi', spec: 'src/demo/pets.openapi.yaml' }] },
        { name: 'rampart, waf', stages: [{ type: 'waf', mode: 'block' }] },
        {
          name: 'rampart, openapi + waf, POST 1 KB',
          stages: [{ type: 'openapi', spec: 'src/demo/pets.openapi.yaml' }, { type: 'waf', mode: 'block' }],
          body: POST_BODY,
          baseline: 'rampart, no stages, POST 1 KB',
        },
      ]
    : [];
  type Target = { name: string; url: string; group: 'http' | 'tls'; headers?: Record<string, string>; body?: string; baseline?: string };
  const variantTargets: Target[] = values.stages ? [{ name: 'rampart, no stages, POST 1 KB', url: `http://127.0.0.1:${rPlain}/pets`, group: 'http', body: POST_BODY }] : [];
  for (const [i, v] of variants.entries()) {
    const [http, https] = [await freePort(), await freePort()];
    const file = join(ROOT, `.bench-stage-${i}.yaml`);
    writeFileSync(file, stringify({ ...parseYaml(rampartConfig(http, https, v.stages)), ...v.extra }));
    start(process.execPath, [cli, 'start', '--config', file], 1);
    variantTargets.push({ name: v.name, url: `http://127.0.0.1:${http}/pets`, group: 'http', ...(v.headers ? { headers: v.headers } : {}), ...(v.body ? { body: v.body } : {}), ...(v.baseline ? { baseline: v.baseline } : {}) });
    benchFiles.push(file);
  }

  const floorTargets: Target[] = [];
  if (values.floor) {
    const floorScript = join(ROOT, 'bench/support/floor-proxy.ts');
    for (const [mode, label] of [['undici', 'node:http + undici Pool'], ['http', "node:http + Rampart's upstream client"], ['raw', "net + llhttp + Rampart's upstream client"]] as const) {
      const port = await freePort();
      start(process.execPath, ['--import', 'tsx', floorScript, mode, String(port), `http://127.0.0.1:${upPort}`], 1);
      floorTargets.push({ name: `floor: ${label}`, url: `http://127.0.0.1:${port}/pets`, group: 'http' });
    }
  }

  const targets: Target[] = [
    { name: 'upstream direct', url: `http://127.0.0.1:${upPort}/pets`, group: 'http' as const },
    ...(useNginx ? [{ name: 'nginx proxy', url: `http://127.0.0.1:${ngxPort}/pets`, group: 'http' as const }] : []),
    ...floorTargets,
    { name: 'rampart, no stages', url: `http://127.0.0.1:${rPlain}/pets`, group: 'http' as const },
    { name: 'rampart, demo stages', url: `http://127.0.0.1:${rFull}/pets`, group: 'http' as const, headers: auth },
    ...variantTargets,
    ...(useNginx ? [{ name: 'nginx proxy (TLS)', url: `https://127.0.0.1:${ngxTlsPort}/pets`, group: 'tls' as const }] : []),
    { name: 'rampart, no stages (TLS)', url: `https://127.0.0.1:${rTls}/pets`, group: 'tls' as const },
    { name: 'rampart, demo stages (TLS)', url: `https://127.0.0.1:${rFullTls}/pets`, group: 'tls' as const, headers: auth },
  ].filter((t) => values.only === undefined || values.only.split('|').some((o) => t.name.includes(o)));
  for (const t of targets) await waitFor(t.url, true, t.headers);
  if (WARMUP > 0) {
    for (const t of targets) {
      process.stderr.write(`[bench] warm-up ${WARMUP} s: ${t.name}\n`);
      await load(t.url, t.headers ?? {}, WARMUP, t.body);
    }
  }

  // A stage variant is measured right next to a fresh run of its baseline (Rampart with no stages,
  // GET or POST), alternating which goes first, and its ratio is the median of those paired ratios.
  // This machine's speed drifts by ±20 % within minutes; a ratio of two runs taken seconds apart
  // cancels the drift, where medians of runs taken a minute apart do not.
  const baselineOf = (t: Target): Target | undefined =>
    values.stages && t.name.startsWith('rampart, ') && !t.name.startsWith('rampart, no stages') && t.group === 'http'
      ? targets.find((b) => b.name === (t.baseline ?? 'rampart, no stages'))
      : undefined;
  const runs = new Map<string, Result[]>(targets.map((t) => [t.name, []]));
  const paired = new Map<string, number[]>();
  const measure = async (t: Target, round: number): Promise<Result> => {
    process.stderr.write(`[bench] round ${round}/${ROUNDS}: ${t.name} ...`);
    const r = await load(t.url, t.headers ?? {}, DURATION, t.body);
    process.stderr.write(` ${Math.round(r.rps)} req/s\n`);
    runs.get(t.name)!.push(r);
    return r;
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const base = baselineOf(t);
      if (base === undefined) {
        // Baselines of paired variants are measured with each of them.
        if (!targets.some((v) => baselineOf(v) === t)) await measure(t, round);
        continue;
      }
      const [first, second] = round % 2 === 1 ? [base, t] : [t, base];
      const a = await measure(first, round);
      const b = await measure(second, round);
      const [v, b0] = first === t ? [a, b] : [b, a];
      paired.set(t.name, [...(paired.get(t.name) ?? []), v.rps / b0.rps]);
    }
  }
  const summary = targets.map((t) => {
    const rs = runs.get(t.name)!;
    const ratios = paired.get(t.name);
    return {
      name: t.name,
      group: t.group,
      baseline: t.baseline,
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      ...(ratios === undefined ? {} : { paired: { ratio: median(ratios), rounds: ratios } }),
    };
  });
  const ref = (group: string): number | undefined => summary.find((s) => s.group === group && s.name.startsWith('nginx'))?.rps;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nMachine: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`Load: ${has('wrk') ? 'wrk -t1' : 'autocannon'} -c${CONNECTIONS}, ${WARMUP} s warm-up, then ${DURATION} s × ${ROUNDS} rounds (medians); upstream: ${useNginx ? 'nginx static JSON' : 'Node static JSON'}; pinning: ${has('taskset') ? 'load core 0, upstream+proxy core 1' : 'none (taskset missing)'}\n`);
  const bare = (group: string, baseline: string | undefined): number | undefined =>
    summary.find((s) => s.group === group && (baseline === undefined ? s.name.startsWith('rampart, no stages') : s.name === baseline))?.rps;
  console.log('| target | req/s | p50 ms | p99 ms | ratio to nginx | ratio to rampart, no stages | paired ratio (per round) | errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const s of summary) {
    const r = ref(s.group);
    const b = s.name.startsWith('rampart') ? bare(s.group, s.baseline) : undefined;
    const pairs = s.paired === undefined ? '—' : `**${s.paired.ratio.toFixed(2)}** (${s.paired.rounds.map((x) => x.toFixed(2)).join(', ')})`;
    console.log(`| ${s.name} | ${Math.round(s.rps).toLocaleString('en-US')} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${r === undefined ? '—' : (s.rps / r).toFixed(2)} | ${b === undefined ? '—' : (s.rps / b).toFixed(2)} | ${pairs} | ${s.errors} |`);
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
