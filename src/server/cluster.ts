/**
 * State that must be one across the processes of `rampart start --workers N`. Workers talk to the
 * primary over the cluster IPC channel; the primary relays:
 *
 * - detector blocks: a block decided in one worker is enforced by every worker, and a worker
 *   started later (a restart) receives the blocks in force before it serves;
 * - metrics: the worker serving the admin API asks the primary, which collects every worker's
 *   registry and merges them with prom-client's `AggregatorRegistry.aggregate`.
 *
 * Rate limits and lockouts are not relayed: exact limits need the shared Redis counters, so a
 * cluster on per-process (`memory`) counters is refused ({@link assertSharedCounters}).
 */
import { AggregatorRegistry } from 'prom-client';
import { ConfigError, type LoadedConfig } from '../config/load.js';
import { RampartError } from '../core/errors.js';
import { LruMap } from '../observe/detectors/window.js';
import type { ClusterPeer, Observer } from '../observe/observer.js';

/**
 * How long the primary waits for every worker's metrics. Past it the scrape fails (503): a sum
 * over some workers would drop, which Prometheus reads as a counter reset.
 */
const COLLECT_TIMEOUT_MS = 2000;

type Block = [ip: string, until: number];

/** Worker → primary. */
type FromWorker =
  | { type: 'rampart:ready' }
  | { type: 'rampart:block'; ip: string; until: number }
  | { type: 'rampart:metrics'; id: number }
  | { type: 'rampart:collected'; id: number; metrics?: object[]; error?: string };

/** Primary → worker. */
type ToWorker =
  | { type: 'rampart:blocks'; blocks: Block[] }
  | { type: 'rampart:collect'; id: number }
  | { type: 'rampart:metrics'; id: number; text?: string; error?: string };

/** Only our own processes are on the channel; the prefix keeps other users of it (libraries) apart. */
function ours<T extends { type: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && String((message as { type?: unknown }).type).startsWith('rampart:');
}

/** A worker as the primary sees it (`cluster.Worker`). */
export interface WorkerEnd {
  isConnected(): boolean;
  send(message: ToWorker, done: (err: Error | null) => void): boolean;
}

/**
 * Send errors are ignored: a closed channel means the other side is going away (a worker's exit
 * reaches {@link ClusterHub.gone}; a worker whose primary disconnected it stops).
 */
const ignore = (): void => {};

function post(worker: WorkerEnd, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message, ignore);
}

interface Collection {
  readonly requester: WorkerEnd;
  readonly requestId: number;
  readonly asked: number;
  readonly waiting: Set<WorkerEnd>;
  readonly parts: object[];
  readonly timer: NodeJS.Timeout;
}

/**
 * The primary's side: the blocks in force (bounded) and metrics collections.
 *
 * @example
 *   const hub = new ClusterHub({ maxBlocks: config.observe.detectors.maxTracked });
 *   cluster.on('message', (worker, message) => hub.receive(worker, message));
 *   cluster.on('exit', (worker) => hub.gone(worker));
 */
export class ClusterHub {
  /** Workers that joined (their observer exists). */
  private readonly ready = new Set<WorkerEnd>();
  /** Address → end of its block (epoch milliseconds), bounded like each worker's own set (observe.detectors.maxTracked). */
  private readonly blocks: LruMap<string, number>;
  private readonly collections = new Map<number, Collection>();
  private seq = 0;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(options: { maxBlocks: number; timeoutMs?: number; now?: () => number }) {
    this.blocks = new LruMap(options.maxBlocks);
    this.timeoutMs = options.timeoutMs ?? COLLECT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  receive(from: WorkerEnd, message: unknown): void {
    if (!ours<FromWorker>(message)) return;
    switch (message.type) {
      case 'rampart:ready':
        this.ready.add(from);
        post(from, { type: 'rampart:blocks', blocks: this.liveBlocks() });
        return;
      case 'rampart:block':
        if (!this.remember(message.ip, message.until)) return;
        for (const w of this.ready) if (w !== from) post(w, { type: 'rampart:blocks', blocks: [[message.ip, message.until]] });
        return;
      case 'rampart:metrics':
        this.collect(from, message.id);
        return;
      case 'rampart:collected': {
        const c = this.collections.get(message.id);
        if (c === undefined || !c.waiting.delete(from)) return;
        if (message.error !== undefined) return this.finish(message.id, `a gateway process could not read its metrics: ${message.error}`);
        c.parts.push(message.metrics ?? []);
        if (c.waiting.size === 0) this.finish(message.id);
        return;
      }
    }
  }

  /** A worker exited: its metrics went with it, so collections stop waiting for them. */
  gone(worker: WorkerEnd): void {
    this.ready.delete(worker);
    for (const [id, c] of this.collections) if (c.waiting.delete(worker) && c.waiting.size === 0) this.finish(id);
  }

  /** False when the block has already ended (nothing to relay). */
  private remember(ip: string, until: number): boolean {
    if (until <= this.now()) return false;
    this.blocks.set(ip, Math.max(this.blocks.get(ip) ?? 0, until));
    return true;
  }

  private liveBlocks(): Block[] {
    const now = this.now();
    this.blocks.retain((end) => end > now);
    return [...this.blocks.entries()];
  }

  private collect(requester: WorkerEnd, requestId: number): void {
    const id = this.seq++;
    const asked = [...this.ready].filter((w) => w.isConnected());
    const timer = setTimeout(() => this.finish(id), this.timeoutMs);
    timer.unref();
    this.collections.set(id, { requester, requestId, asked: asked.length, waiting: new Set(asked), parts: [], timer });
    for (const w of asked) post(w, { type: 'rampart:collect', id });
    if (asked.length === 0) this.finish(id);
  }

  private finish(id: number, error?: string): void {
    const c = this.collections.get(id);
    if (c === undefined) return;
    this.collections.delete(id);
    clearTimeout(c.timer);
    const missing = c.waiting.size;
    if (error !== undefined || missing > 0) {
      post(c.requester, { type: 'rampart:metrics', id: c.requestId, error: error ?? `${missing} of ${c.asked} gateway processes did not send their metrics within ${this.timeoutMs} ms` });
      return;
    }
    // Invoked inside the promise chain so that a synchronous throw (unknown aggregator) is an answer too.
    Promise.resolve()
      .then(() => AggregatorRegistry.aggregate(c.parts).metrics())
      .then(
        (text) => post(c.requester, { type: 'rampart:metrics', id: c.requestId, text }),
        (err: unknown) => post(c.requester, { type: 'rampart:metrics', id: c.requestId, error: `merging the metrics failed: ${(err as Error).message}` }),
      );
  }
}

interface Pending {
  resolve(text: string): void;
  reject(err: Error): void;
  readonly timer: NodeJS.Timeout;
}

const unavailable = (why: string): RampartError =>
  new RampartError('RAMPART_SERVICE_UNAVAILABLE', `Metrics of the whole cluster are not available: ${why}. No partial set is served; retry.`, { headers: { 'retry-after': '5' } });

/**
 * A worker's side: shares its blocks, applies the others', answers metrics collections, and asks
 * the primary for the merged metrics ({@link ClusterPeer}).
 *
 * @example
 *   const link = WorkerLink.overProcess();
 *   const gateway = await Gateway.start({ configFile, cluster: link, processes: workers });
 */
export class WorkerLink implements ClusterPeer {
  private observer: Observer | undefined;
  private synced: (() => void) | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;

  /** `timeoutMs`: the primary's own collection timeout plus the IPC round trips. */
  constructor(private readonly send: (message: FromWorker) => void, private readonly timeoutMs = COLLECT_TIMEOUT_MS + 1000) {}

  /** The link of this cluster worker, on `process.send` / `process.on('message')`. */
  static overProcess(): WorkerLink {
    const link = new WorkerLink((message) => process.send?.(message, undefined, undefined, ignore));
    process.on('message', (message) => link.receive(message));
    return link;
  }

  /**
   * Joins the cluster with this process's observer. Resolves once the primary sent the blocks in
   * force, so that a restarted worker enforces them before it serves (or after the timeout, when
   * the primary does not answer: starting matters more).
   */
  attach(observer: Observer): Promise<void> {
    this.observer = observer;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.synced?.(), this.timeoutMs);
      this.synced = () => {
        clearTimeout(timer);
        this.synced = undefined;
        resolve();
      };
      this.send({ type: 'rampart:ready' });
    });
  }

  receive(message: unknown): void {
    const observer = this.observer;
    if (!ours<ToWorker>(message) || observer === undefined) return;
    switch (message.type) {
      case 'rampart:blocks':
        for (const [ip, until] of message.blocks) observer.applyBlock(ip, until);
        this.synced?.();
        return;
      case 'rampart:collect':
        observer.metrics.registry.getMetricsAsJSON().then(
          (metrics) => this.send({ type: 'rampart:collected', id: message.id, metrics }),
          (err: unknown) => this.send({ type: 'rampart:collected', id: message.id, error: (err as Error).message }),
        );
        return;
      case 'rampart:metrics': {
        const p = this.pending.get(message.id);
        if (p === undefined) return;
        this.pending.delete(message.id);
        clearTimeout(p.timer);
        if (message.text !== undefined) p.resolve(message.text);
        else p.reject(unavailable(message.error ?? 'no answer'));
        return;
      }
    }
  }

  shareBlock(ip: string, until: number): void {
    this.send({ type: 'rampart:block', ip, until });
  }

  metrics(): Promise<string> {
    const id = this.seq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(unavailable(`the cluster primary did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ type: 'rampart:metrics', id });
    });
  }
}

const PER_PROCESS_STAGES = new Set(['rate-limit', 'lockout']);

/**
 * Refuses a config whose limits would silently multiply: on `counters: memory` each process
 * counts alone, so N processes let N × the limit through.
 *
 * @throws ConfigError naming the stages and the fix.
 */
export function assertSharedCounters(loaded: LoadedConfig, processes: number): void {
  const { config } = loaded;
  if (processes <= 1 || config.counters !== 'memory') return;
  const where = [
    ...config.stages.flatMap((s, i) => (PER_PROCESS_STAGES.has(s.type) ? [`stages[${i}] (${s.type})`] : [])),
    ...config.routes.flatMap((r, i) => r.stages.flatMap((s, j) => (PER_PROCESS_STAGES.has(s.type) ? [`routes[${i}] ${r.id} stages[${j}] (${s.type})`] : []))),
  ];
  if (where.length === 0) return;
  throw new ConfigError(
    [
      `counters: memory counts rate limits and lockouts in each process, and ${processes} gateway processes (--workers ${processes}) would let ${processes} × each limit through: ${where.join(', ')}. ` +
        'Use counters: redis://… (one count shared by every process), or run one process (no --workers).',
    ],
    loaded.file ?? '<inline>',
  );
}
