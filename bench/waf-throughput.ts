/**
 * `npm run bench:waf [-- --seconds N --connections N]`
 *
 * Throughput of the gateway on a ~1 KB JSON body (PATCH /pets/1 on the demo API) through a route
 * with no stages and through a route with the `openapi` contract and the `waf` engine, in one run,
 * so the ratio is meaningful even though absolute figures drift between machines and runs.
 */
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { ROOT, startGateway } from '../test/helpers/gateway.js';
import { benchArgs } from './support/args.js';

const { values: args } = benchArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' } } });

const notes = 'Rex is a friendly dog who loves long walks in the park, chasing tennis balls and meeting other dogs. ';
const body = JSON.stringify({ name: "Rex O'Malley", species: 'dog', notes: (notes.repeat(10)).slice(0, 940) });

// The load generator runs in its own process (autocannon's CLI) so it does not share the gateway's event loop.
const gw = await startGateway(`
listeners:
  https: { enabled: false }
  http: { port: 0, host: 127.0.0.1, mode: serve }
admin: { enabled: false }
log: { level: silent, access: false }
upstreams: { pets: { url: "builtin:pets" } }
routes:
  - id: bare
    path: /bare/**
    upstream: pets
    stripPrefix: /bare
  - id: contract
    path: /contract/**
    upstream: pets
    stripPrefix: /contract
    stages:
      - { type: openapi, spec: "${join(ROOT, 'src/demo/pets.openapi.yaml')}" }
  - id: waf
    path: /waf/**
    upstream: pets
    stripPrefix: /waf
    stages:
      - { type: waf, mode: block }
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - { type: openapi, spec: "${join(ROOT, 'src/demo/pets.openapi.yaml')}" }
      - { type: waf, mode: block }
`);

function run(path: string): Promise<{ rps: number; p99: number; errors: number }> {
  const cli = join(ROOT, 'node_modules/autocannon/autocannon.js');
  const argv = [cli, '--json', '-m', 'PATCH', '-H', 'content-type=application/json', '-b', body, '-c', args.connections!, '-d', args.seconds!, `${gw.http}${path}`];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err !== null) return reject(err);
      const r = JSON.parse(stdout) as { requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number };
      resolve({ rps: r.requests.average, p99: r.latency.p99, errors: r.non2xx + r.errors });
    });
  });
}

try {
  await run('/bare/pets/1'); // warm-up
  // Interleaved rounds, medians: other load on the machine then affects every variant alike.
  const variants = [['no stages', '/bare/pets/1'], ['openapi', '/contract/pets/1'], ['waf', '/waf/pets/1'], ['openapi + waf', '/pets/1']] as const;
  const results = new Map<string, Array<{ rps: number; p99: number; errors: number }>>();
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [label, path] of variants) results.set(label, [...(results.get(label) ?? []), await run(path)]);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const bare = median(results.get('no stages')!.map((r) => r.rps));
  console.log(`body: ${Buffer.byteLength(body)} bytes JSON (PATCH /pets/1), ${args.connections} connections, ${args.seconds} s × ${args.rounds} rounds, medians`);
  for (const [label] of variants) {
    const rs = results.get(label)!;
    const rps = median(rs.map((r) => r.rps));
    const errors = rs.reduce((a, r) => a + r.errors, 0);
    console.log(`${label.padEnd(16)} ${rps.toFixed(0).padStart(8)} req/s  p99 ${String(median(rs.map((r) => r.p99))).padStart(4)} ms  non-2xx ${errors}  ${((100 * rps) / bare).toFixed(1).padStart(5)}% of no stages`);
  }
} finally {
  await gw.stop();
}
