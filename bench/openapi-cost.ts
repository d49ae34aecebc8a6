/**
 * `npx tsx bench/openapi-cost.ts`: CPU cost per request of the `openapi` stage alone, warm, in
 * microseconds. The stage is built from a config the way the gateway builds it (the quick start's
 * demo document, `responses: filter`) and driven through its hooks with a real RequestContext:
 *
 * - `GET /pets?q=rex&limit=10`: request side (operation lookup, query parameters), then response
 *   side (head + the ~110-byte JSON answer of the demo API, parsed, validated, filtered);
 * - `POST /pets` with a ~1 KB JSON body: request side (parameters, body read, strict parse, schema).
 *
 * The POST figure includes reading the body from a stream; the `body read only` line is that part
 * alone, so the stage's own work is the difference.
 *
 * Both wall and process CPU time are printed: on a shared machine, CPU time is the steadier one.
 *
 * Options: --iterations N (10,000 per case), --rounds N (5; the median is reported), --only TEXT
 * (the cases whose label contains TEXT, e.g. to profile one with `node --cpu-prof --import tsx`).
 */
import pino from 'pino';
import { parseConfigText } from '../src/config/load.js';
import type { Services } from '../src/core/services.js';
import type { ResponseHead, Stage } from '../src/core/stage.js';
import { openapiStage } from '../src/stages/openapi/openapi.js';
import { ROOT } from '../test/helpers/gateway.js';
import { requestContext as context } from '../test/helpers/request-context.js';
import { benchArgs } from './support/args.js';

const { values } = benchArgs({ options: { iterations: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '5' }, only: { type: 'string', default: '' } } });
const ITERATIONS = Number(values.iterations);
const ROUNDS = Number(values.rounds);

const { config, baseDir } = parseConfigText(
  `
upstreams: { pets: { url: "builtin:pets" } }
routes:
  - id: pets
    path: /pets/**
    upstream: pets
    stages:
      - { type: openapi, spec: src/demo/pets.openapi.yaml, responses: filter }
`,
  { baseDir: ROOT },
);
const route = config.routes[0]!;
const entry = route.stages[0]!;
if (entry.type !== 'openapi') throw new Error('expected the openapi stage');
// The openapi stage uses none of the services.
const services = { logger: pino({ level: 'silent' }), emit: () => undefined } as unknown as Services;
const stage: Stage = await openapiStage.create(entry, { services, config, route, baseDir });

const notes = 'Rex is a friendly dog who loves long walks in the park, chasing tennis balls and meeting other dogs. ';
const postBody = Buffer.from(JSON.stringify({ name: "Rex O'Malley", species: 'dog', notes: notes.repeat(10).slice(0, 940) }));
// What the demo API answers to GET /pets?q=rex&limit=10.
const listBody = Buffer.from(JSON.stringify({ items: [{ id: 1, name: 'Rex', species: 'dog', owner: 'alice', createdAt: new Date(0).toISOString() }], total: 1 }));
const browser = { host: '127.0.0.1:8443', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', accept: 'application/json' };


async function getPets(): Promise<void> {
  const ctx = context('GET', '/pets?q=rex&limit=10', browser);
  const pending = stage.handle!(ctx);
  if (pending !== undefined) await pending;
  const head: ResponseHead = { statusCode: 200, headers: { 'content-type': 'application/json', 'content-length': String(listBody.length) } };
  stage.onResponseHead!(ctx, head);
  if (!ctx.responseBuffered) throw new Error('the response was not buffered');
  const out = await stage.onResponseBody!(ctx, head, listBody);
  if (out.length !== listBody.length) throw new Error('the response was changed');
}

async function postPets(): Promise<void> {
  const ctx = context('POST', '/pets', { ...browser, 'content-type': 'application/json', 'content-length': String(postBody.length) }, postBody);
  const pending = stage.handle!(ctx);
  if (pending !== undefined) await pending;
}

async function readOnly(): Promise<void> {
  await context('POST', '/pets', { ...browser, 'content-type': 'application/json', 'content-length': String(postBody.length) }, postBody).readBody();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const cases = Object.fromEntries(
  Object.entries({
    [`GET /pets?q=rex&limit=10 (+${listBody.length} B response)`]: getPets,
    [`POST /pets (${postBody.length} B JSON body)`]: postPets,
    '  of which: body read only': readOnly,
  }).filter(([label]) => label.includes(values.only)),
);
for (const f of Object.values(cases)) for (let i = 0; i < 2_000; i++) await f();
const samples = new Map<string, { wall: number[]; cpu: number[] }>(Object.keys(cases).map((k) => [k, { wall: [], cpu: [] }]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [label, f] of Object.entries(cases)) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    for (let i = 0; i < ITERATIONS; i++) await f();
    const used = process.cpuUsage(cpu);
    samples.get(label)!.wall.push(((performance.now() - start) / ITERATIONS) * 1000);
    samples.get(label)!.cpu.push((used.user + used.system) / ITERATIONS);
  }
}
// On a busy machine the wall time includes time the process waited for a core; CPU time does not.
console.log(`${ITERATIONS} requests × ${ROUNDS} rounds per case, medians, µs/request`);
console.log(`${''.padEnd(44)} ${'wall'.padStart(7)} ${'cpu'.padStart(7)}`);
for (const [label, { wall, cpu }] of samples) console.log(`${label.padEnd(44)} ${median(wall).toFixed(2).padStart(7)} ${median(cpu).toFixed(2).padStart(7)}`);
