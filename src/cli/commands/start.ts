import cluster, { type Worker } from 'node:cluster';
import { Gateway } from '../../server/gateway.js';
import { startPetsApi } from '../../demo/pets.js';
import { loadConfigFile } from '../../config/load.js';
import { assertSharedCounters, ClusterHub, WorkerLink } from '../../server/cluster.js';
import { EXIT, parse, UsageError, type Command } from '../command.js';

/** `rampart start [--config FILE] [--workers N]` */
export const startCommand: Command = {
  name: 'start',
  help: `Usage: rampart start [--config FILE] [--workers N]

  --config FILE   config file (default: rampart.yaml)
  --workers N     gateway processes sharing the listeners (Node cluster); one of them also serves
                  the admin API, whose /metrics covers all of them. Detector blocks apply on every
                  process. Rate-limit and lockout stages need counters: redis://… (refused on memory).

Stops gracefully on SIGINT/SIGTERM (in-flight requests finish). The config file is watched and
reloaded on change; an invalid change is refused and the running config keeps serving.`,
  async run(args, io) {
    const { values, positionals } = parse(args, { config: { type: 'string', short: 'c' }, workers: { type: 'string', short: 'w' } }, false);
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const configFile = values.config ?? 'rampart.yaml';
    const workers = values.workers === undefined ? 1 : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError('--workers must be an integer from 1 to 256');

    if (workers > 1 && cluster.isPrimary) return runPrimary(configFile, workers, io.err);
    const worker = cluster.isWorker ? cluster.worker : undefined;
    let gateway: Gateway;
    try {
      gateway = await Gateway.start({
        configFile,
        admin: worker === undefined || process.env[ADMIN_WORKER] === '1',
        cluster: worker === undefined ? undefined : WorkerLink.overProcess(),
        processes: workers,
      });
    } catch (e) {
      // A worker that cannot start must exit (its IPC channel would keep it alive, serving nothing)
      // so that the primary sees it and retries later.
      if (worker !== undefined) {
        io.err(`rampart worker ${process.pid}: ${(e as Error).message}\n`);
        process.exit(1);
      }
      throw e;
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void gateway.stop().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      worker?.on('disconnect', stop);
      // Asked to stop while still starting: the disconnect came before the listener above.
      if (worker !== undefined && !worker.isConnected()) stop();
    });
    return EXIT.ok;
  },
};

/** A worker that exits within this long of being forked did not really start. */
const QUICK_DEATH_MS = 5_000;
const RESTART_MAX_MS = 30_000;
/** After asking workers to stop: their 10 s grace for in-flight requests, then a margin. */
const STOP_KILL_MS = 15_000;

/** Set (to 1) in the environment of the worker that serves the admin API, and of its replacement. */
const ADMIN_WORKER = 'RAMPART_ADMIN_WORKER';

/**
 * Cluster primary: starts the shared demo upstream once, forks workers, restarts crashed ones,
 * and relays detector blocks and metrics between them ({@link ClusterHub}).
 */
async function runPrimary(configFile: string, workers: number, err: (t: string) => void): Promise<number> {
  const loaded = loadConfigFile(configFile); // fail fast with the config's own errors
  assertSharedCounters(loaded, workers);
  const { config } = loaded;
  const usesDemo = Object.values(config.upstreams).some((u) => u.url === 'builtin:pets');
  const demo = usesDemo ? await startPetsApi() : undefined;
  const env = demo !== undefined ? { RAMPART_BUILTIN_PETS_URL: demo.url } : {};
  const hub = new ClusterHub({ maxBlocks: config.observe.detectors.maxTracked });
  cluster.on('message', (w, message) => hub.receive(w, message));
  let adminWorker: Worker | undefined;
  // The admin API follows its worker across restarts (a worker id would not: replacements get new ids).
  const started = new WeakMap<Worker, number>();
  const fork = (admin: boolean): void => {
    // Set either way: a value inherited from the primary's own environment must not make every worker an admin.
    const w = cluster.fork({ ...env, [ADMIN_WORKER]: admin ? '1' : '' });
    started.set(w, Date.now());
    if (admin) adminWorker = w;
  };
  let stopping = false;
  const restarts = new Set<NodeJS.Timeout>();
  /** Consecutive workers that died soon after starting: each waits twice as long before the next try. */
  let quickDeaths = 0;
  for (let i = 0; i < workers; i++) fork(i === 0);
  cluster.on('exit', (w, code, signal) => {
    hub.gone(w);
    if (stopping) return;
    // A worker that cannot start (the config file broke since, a port taken) would die again at
    // once: back off instead of forking in a tight loop.
    quickDeaths = Date.now() - (started.get(w) ?? 0) < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    const delay = quickDeaths === 0 ? 0 : Math.min(RESTART_MAX_MS, 500 * 2 ** (quickDeaths - 1));
    err(`worker ${w.process.pid} exited (${signal ?? code}); starting a new one${delay > 0 ? ` in ${delay} ms` : ''}\n`);
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (!stopping) fork(w === adminWorker);
    }, delay);
    restarts.add(timer);
  });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      stopping = true;
      for (const t of restarts) clearTimeout(t);
      for (const w of Object.values(cluster.workers ?? {})) w?.disconnect();
      // Workers finish in-flight requests (10 s grace in Gateway.stop); one still starting, or stuck,
      // would otherwise keep the primary waiting forever.
      const kill = setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      }, STOP_KILL_MS);
      const check = setInterval(() => {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          clearInterval(check);
          clearTimeout(kill);
          resolve();
        }
      }, 100);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await demo?.close();
  return EXIT.ok;
}
