/**
 * Counters on Redis, exact across any number of gateway processes.
 *
 * Why not rate-limiter-flexible (evaluated first): its Redis limiter is a fixed window
 * (INCR + EXPIRE, so up to twice the limit passes across a window edge), it increments on refused
 * requests too (refusals consume quota), it has no GCRA/sliding limiter, no Redis concurrency
 * limiter and no atomic check of several limits at once (RateLimiterUnion is one round trip per
 * limiter, and charges the ones that admitted when another refuses). Its insurance limiter does not
 * give a fail-closed mode either. So the store runs its own Lua scripts (redis/scripts.ts):
 * one EVALSHA per decision; the decisions of one event-loop iteration leave in one socket write.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { Command, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EventSink } from '../../core/events.js';
import {
  CountersUnavailableError,
  kindOfKey,
  type CounterEntry,
  type CounterStore,
  type CounterStoreHealth,
  type Decision,
  type LimitRule,
  type LockoutPolicy,
  type LockoutState,
  type RuleState,
} from '../counter-store.js';
import { DECIDE, LOCKED_UNTIL, RECORD_FAILURE } from './scripts.js';

type ScriptArg = string | number;
interface ScriptedRedis extends Redis {
  rampartFailure(numKeys: number, ...args: ScriptArg[]): Promise<number[]>;
  rampartLockedUntil(numKeys: number, ...args: ScriptArg[]): Promise<number>;
}

/** SHA-1 of the decide script, the name EVALSHA runs it by. */
const DECIDE_SHA = createHash('sha1').update(DECIDE).digest('hex');

export interface RedisCounterStoreOptions {
  /** `redis://[user:pass@]host:port[/db][?prefix=rampart:&timeoutMs=1000]` */
  url: string;
  logger: Logger;
  emit: EventSink;
  /** Clock in epoch ms for tests; by default Redis' own clock decides (one clock for the cluster). */
  now?: () => number;
}

/**
 * {@link CounterStore} on Redis. Commands fail fast while the connection is down (no offline queue,
 * a command timeout) so that the route's fail mode answers at once; ioredis keeps reconnecting with
 * backoff, and decisions return to Redis as soon as it answers again.
 *
 * @example
 *   const store = new RedisCounterStore({ url: 'redis://127.0.0.1:6379?prefix=rampart:', logger, emit });
 */
export class RedisCounterStore implements CounterStore {
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly now: (() => number) | undefined;
  private readonly logger: Logger;
  private readonly emit: EventSink;
  /** Undefined until the first connection attempt settles (the first connect is not a recovery). */
  private available: boolean | undefined;
  private failures = 0;
  private closing = false;
  /** The socket held corked until the end of this event-loop iteration (see {@link send}). */
  private corked: Socket | undefined;

  constructor(options: RedisCounterStoreOptions) {
    const url = new URL(options.url);
    this.prefix = url.searchParams.get('prefix') ?? 'rampart:';
    const timeoutMs = Number(url.searchParams.get('timeoutMs') ?? 1000);
    url.search = '';
    this.now = options.now;
    this.logger = options.logger;
    this.emit = options.emit;
    this.redis = new Redis(url.toString(), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    }) as ScriptedRedis;
    this.redis.defineCommand('rampartFailure', { lua: RECORD_FAILURE });
    this.redis.defineCommand('rampartLockedUntil', { lua: LOCKED_UNTIL });
    this.redis.on('ready', () => this.setAvailable(true, undefined));
    this.redis.on('error', (err: Error) => this.setAvailable(false, err.message));
    this.redis.on('close', () => this.setAvailable(false, 'connection closed'));
  }

  /** Resolves when connected, or after `timeoutMs` (the gateway starts either way; fail modes cover the gap). */
  ready(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.redis.once('ready', done);
    });
  }

  private setAvailable(available: boolean, reason: string | undefined): void {
    if (available === this.available || this.closing) return;
    const first = this.available === undefined;
    this.available = available;
    if (available && first) this.logger.info({ counters: 'redis' }, 'counters backend connected');
    else if (available) {
      this.logger.info({ counters: 'redis' }, 'counters backend available');
      this.emit({ type: 'counters.recovered', severity: 'info', source: 'counters', time: Date.now() });
    } else {
      this.logger.warn({ counters: 'redis', reason }, 'counters backend unavailable; routes apply their fail mode');
      this.emit({ type: 'counters.unavailable', severity: 'high', source: 'counters', reason, time: Date.now() });
    }
  }

  private clock(): string {
    return this.now === undefined ? '' : String(this.now());
  }

  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** Unavailable-error for a failed command (counted for the health report). */
  private unavailable(err: unknown): CountersUnavailableError {
    this.failures++;
    return new CountersUnavailableError(`Redis counters unavailable: ${(err as Error).message}`, { cause: err });
  }

  /**
   * The hot path, kept lean: one EVALSHA built in one array (no script text, no argument copies
   * beyond ioredis' own), no promise besides the command's and the one `then` returns.
   */
  decide(rules: readonly LimitRule[], token: string): Promise<Decision> {
    const n = rules.length;
    // EVALSHA sha numkeys KEYS... now token (kind limit p1 p2)...
    const args = new Array<ScriptArg>(4 + 5 * n);
    args[0] = DECIDE_SHA;
    args[1] = n;
    let a = 2 + n;
    args[a++] = this.clock();
    args[a++] = token;
    for (let i = 0; i < n; i++) {
      const rule = rules[i]!;
      args[2 + i] = this.prefix + rule.key;
      args[a++] = rule.kind === 'rate' ? 'r' : rule.kind === 'quota' ? 'q' : 'c';
      args[a++] = rule.limit;
      args[a++] = rule.kind === 'rate' ? rule.windowMs : rule.kind === 'quota' ? rule.period : rule.leaseMs;
      args[a++] = rule.kind === 'rate' ? rule.burst : 0;
    }
    return this.send('evalsha', args).then(toDecision, (err: unknown) => {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw this.unavailable(err);
      // Redis does not know the script yet (first use, restart, SCRIPT FLUSH): EVAL loads it.
      args[0] = DECIDE;
      return this.send('eval', args).then(toDecision, (again: unknown) => {
        throw this.unavailable(again);
      });
    });
  }

  /**
   * Sends one command. The socket stays corked until the check phase of this event-loop iteration,
   * so the commands of every request handled in one poll phase leave in one write (one system call)
   * instead of one each (ioredis' auto-pipelining batches per tick only, and in the gateway each
   * request is its own tick). The wait is the rest of the iteration, no timer.
   */
  private send(name: string, args: ScriptArg[]): Promise<number[]> {
    const command = new Command(name, args);
    if (this.corked === undefined && this.redis.status === 'ready') {
      const socket = this.redis.stream as Socket;
      socket.cork();
      this.corked = socket;
      setImmediate(this.uncork);
    }
    void this.redis.sendCommand(command);
    return command.promise as Promise<number[]>;
  }

  private readonly uncork = (): void => {
    this.corked?.uncork();
    this.corked = undefined;
  };

  async release(keys: readonly string[], token: string): Promise<void> {
    await this.run(() => Promise.all(keys.map((k) => this.redis.zrem(this.prefix + k, token))));
  }

  async recordFailure(key: string, policy: LockoutPolicy): Promise<LockoutState> {
    const [failures, level, lockedUntil, started] = await this.run(() =>
      this.redis.rampartFailure(1, this.prefix + key, this.clock(), policy.threshold, policy.windowMs, policy.baseMs, policy.maxMs, policy.resetMs),
    );
    return { failures: failures!, level: level!, lockedUntil: lockedUntil!, started: started === 1 };
  }

  lockedUntil(keys: readonly string[]): Promise<number> {
    return this.run(() => this.redis.rampartLockedUntil(keys.length, ...keys.map((k) => this.prefix + k), this.clock()));
  }

  async list(prefix: string, max: number): Promise<CounterEntry[]> {
    const match = `${globEscape(this.prefix + prefix)}*`;
    const keys: string[] = [];
    let cursor = '0';
    await this.run(async () => {
      do {
        const [next, batch] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0' && keys.length < max);
    });
    const chosen = keys.slice(0, max);
    const now = this.now?.() ?? Date.now();
    return this.run(() =>
      Promise.all(
        chosen.map(async (full): Promise<CounterEntry | undefined> => {
          const key = full.slice(this.prefix.length);
          const kind = kindOfKey(key);
          if (kind === undefined) return undefined;
          const ttl = await this.redis.pttl(full);
          const expiresAt = ttl >= 0 ? now + ttl : undefined;
          if (kind === 'rate') return { key, kind, expiresAt, state: { tat: Math.round(Number(await this.redis.get(full))) } };
          if (kind === 'quota') return { key, kind, expiresAt, state: { count: Number(await this.redis.get(full)) } };
          if (kind === 'concurrency') return { key, kind, expiresAt, state: { inFlight: await this.redis.zcount(full, `(${now}`, '+inf') } };
          const h = await this.redis.hmget(full, 'f', 'l', 'u');
          return { key, kind, expiresAt, state: { failures: Number(h[0] ?? 0), level: Number(h[1] ?? 0), lockedUntil: Number(h[2] ?? 0) } };
        }),
      ).then((entries) => entries.filter((e): e is CounterEntry => e !== undefined)),
    );
  }

  async reset(key: string): Promise<boolean> {
    return (await this.run(() => this.redis.del(this.prefix + key))) > 0;
  }

  health(): CounterStoreHealth {
    return { backend: 'redis', available: this.redis.status === 'ready', failures: this.failures };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.redis.disconnect();
    return Promise.resolve();
  }
}

/** The decide script's reply: allowed (0|1), retryAfterMs, then remaining, resetMs, retryAfterMs per rule. */
function toDecision(reply: number[]): Decision {
  const states: RuleState[] = [];
  for (let i = 2; i < reply.length; i += 3) states.push({ remaining: reply[i]!, resetMs: reply[i + 1]!, retryAfterMs: reply[i + 2]! });
  return { allowed: reply[0] === 1, retryAfterMs: reply[1]!, states };
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
