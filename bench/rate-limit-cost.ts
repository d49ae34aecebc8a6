/**
 * `npx tsx bench/rate-limit-cost.ts`: CPU cost of one rate-limit decision through the stage, built
 * as the gateway builds it for `bench/run.ts --stages` (`by: [ip]`, a limit that never refuses),
 * headers included. Cases: the memory counters; Redis with one decision in flight; Redis with
 * `--concurrency` decisions in flight, each issued from its own macrotask as requests on separate
 * connections are (so writes are batched only as they would be in the gateway).
 *
 * Reports CPU µs per decision of this process (user + system, from process.cpuUsage) and
 * decisions per second (wall). A fresh RequestContext per decision, as in the gateway; its own cost
 * and the harness's are measured with a no-op stage and subtracted.
 *
 * Options: --seconds N (2 per case), --rounds N (3; the median is reported), --concurrency N (50),
 * --redis URL (redis://127.0.0.1:6379), --only memory|redis|redis-concurrent (one case, for profiling), --json.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import type { RampartConfig } from '../src/config/schema.js';
import { RequestContext } from '../src/core/context.js';
import type { Services } from '../src/core/services.js';
import type { Stage } from '../src/core/stage.js';
import type { CompiledRoute } from '../src/server/router.js';
import { rateLimitStage } from '../src/stages/rate-limit/rate-limit.js';
import type { CounterStore } from '../src/stores/counter-store.js';
import { MemoryCounterStore } from '../src/stores/memory/counter-store.js';
import { RedisCounterStore } from '../src/stores/redis/counter-store.js';
import { benchArgs } from './support/args.js';

const { values } = benchArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '50' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    only: { type: 'string' },
    json: { type: 'boolean' },
    raw: { type: 'boolean' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const PREFIX = `rampart-rlbench-${process.pid}:`;

const logger = pino({ level: 'silent' });
const req = { headers: {}, method: 'GET' } as unknown as IncomingMessage;
let seq = 0;
const makeCtx = (route: CompiledRoute | undefined): RequestContext => {
  const ctx = new RequestContext({ id: `req-${seq++}`, req, res: {} as ServerResponse, secure: false, peerIp: '127.0.0.1', host: 'h', rawPath: '/pets', query: '', maxBodyBytes: 1 });
  ctx.route = route;
  return ctx;
};

/** The stage of `bench/run.ts --stages` ("rampart, rate-limit"), on a one-stage route as the runtime compiles it. */
async function build(counters: CounterStore): Promise<{ stage: Stage; route: CompiledRoute }> {
  const services = { logger, emit: () => undefined, counters } as unknown as Services;
  const options = rateLimitStage.options.parse({ type: 'rate-limit', by: ['ip'], rate: { limit: 1_000_000_000, windowSeconds: 1, burst: 1_000_000 } });
  const stage = await rateLimitStage.create(options, { services, config: {} as RampartConfig, route: { id: 'pets' } as RampartConfig['routes'][number], baseDir: '.' });
  const route = { id: 'pets', stages: [stage], responseStages: [], authenticateEnd: -1 } as unknown as CompiledRoute;
  return { stage, route };
}

/** One decision as the pipeline runs it: handle, then completion hooks; checks the headers. */
function once(stage: Stage, route: CompiledRoute): void | Promise<void> {
  const ctx = makeCtx(route);
  const check = (): void => {
    if (ctx.responseHeaders['ratelimit'] === undefined) throw new Error('no RateLimit header');
    stage.onComplete?.(ctx);
  };
  const pending = stage.handle!(ctx);
  if (pending === undefined) return check();
  return pending.then(check);
}

interface Result {
  case: string;
  cpuUsPerDecision: number;
  decisionsPerSecond: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs `loop` for SECONDS, ROUNDS times; `loop` returns decisions made. */
async function measure(name: string, loop: (until: number) => Promise<number>, baselineUs = 0): Promise<Result> {
  await loop(performance.now() + 300); // warm-up (JIT, connection, script load)
  const cpu: number[] = [];
  const rate: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const n = await loop(t0 + SECONDS * 1000);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / n - baselineUs);
    rate.push((n / wall) * 1000);
  }
  return { case: name, cpuUsPerDecision: median(cpu), decisionsPerSecond: Math.round(median(rate)) };
}

/** Synchronous or awaited decisions, one at a time. */
const sequential =
  (stage: Stage, route: CompiledRoute) =>
  async (until: number): Promise<number> => {
    let n = 0;
    while (performance.now() < until) {
      for (let i = 0; i < 1000; i++) {
        const pending = once(stage, route);
        if (pending !== undefined) await pending;
      }
      n += 1000;
    }
    return n;
  };

/** `CONCURRENCY` workers; each decision starts in its own macrotask (setImmediate), as separate requests do. */
const concurrent =
  (stage: Stage, route: CompiledRoute) =>
  async (until: number): Promise<number> => {
    let n = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < until) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        await once(stage, route);
        n++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return n;
  };

const results: Result[] = [];
// The harness alone (fresh context, loop, promise and setImmediate hops of the workers) with a
// no-op synchronous stage: subtracted from the cases that use the same harness.
const noop: Stage = { name: 'noop', phase: 'guard', handle: (ctx) => void (ctx.responseHeaders['ratelimit'] = '"x";r=1;t=1') };
const noopRoute = { id: 'pets', stages: [noop] } as unknown as CompiledRoute;
const none: Result = { case: 'none', cpuUsPerDecision: 0, decisionsPerSecond: 0 };
const seqBase = values.raw ? none : await measure('harness, sequential (subtracted)', sequential(noop, noopRoute));
const concBase = values.raw ? none : await measure(`harness, ${CONCURRENCY} in flight (subtracted)`, concurrent(noop, noopRoute));
if (!values.raw) results.push(seqBase, concBase);

if (values.only === undefined || values.only === 'memory') {
  const memory = new MemoryCounterStore();
  const { stage, route } = await build(memory);
  results.push(await measure('memory', sequential(stage, route), seqBase.cpuUsPerDecision));
  await stage.close?.();
  await memory.close();
}
if (values.only !== 'memory') {
  const redis = new RedisCounterStore({ url: `${values.redis}?prefix=${PREFIX}`, logger, emit: () => undefined });
  await redis.ready(2000);
  if (!redis.health().available) throw new Error(`Redis is not reachable at ${values.redis}`);
  const { stage, route } = await build(redis);
  if (values.only !== 'redis-concurrent') results.push(await measure('redis, 1 in flight', sequential(stage, route), seqBase.cpuUsPerDecision));
  results.push(await measure(`redis, ${CONCURRENCY} in flight`, concurrent(stage, route), concBase.cpuUsPerDecision));
  for (const e of await redis.list('', 100)) await redis.reset(e.key);
  await stage.close?.();
  await redis.close();
}

if (values.json) console.log(JSON.stringify({ node: process.version, seconds: SECONDS, rounds: ROUNDS, results }, null, 2));
else {
  console.log(`node ${process.version}, ${SECONDS} s per round, median of ${ROUNDS} rounds; CPU of this process per decision`);
  for (const r of results) console.log(`${r.case.padEnd(40)} ${r.cpuUsPerDecision.toFixed(2).padStart(7)} µs CPU  ${String(r.decisionsPerSecond).padStart(8)} decisions/s`);
}
