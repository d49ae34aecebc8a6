/**
 * Carries "something was revoked or suspended" to every process sharing the store, within a
 * second: Redis pub/sub when `counters: redis://…` is configured (milliseconds), and always a poll
 * of the store's revocation version (`keys.revocationPollMs`) so a lost message or a missing
 * Redis still converges.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KeyStore } from '../stores/contracts.js';

export interface RevocationOptions {
  readonly store: KeyStore;
  readonly pollMs: number;
  /** `redis://…` for pub/sub, or undefined. */
  readonly redisUrl: string | undefined;
  readonly channel: string;
  readonly logger: Logger;
  /** Called when another process (or this one) announced a change. */
  readonly onChange: () => void;
}

/**
 * @example
 *   const watcher = await RevocationWatcher.start({ store, pollMs: 500, redisUrl, channel, logger, onChange: () => cache.clear() });
 *   await watcher.announce(); // after revoking
 */
export class RevocationWatcher {
  private version = -1;
  private timer: NodeJS.Timeout | undefined;
  private subscriber: Redis | undefined;
  private publisher: Redis | undefined;
  private polling = false;
  private pollFailing = false;

  private constructor(private readonly options: RevocationOptions) {}

  static async start(options: RevocationOptions): Promise<RevocationWatcher> {
    const w = new RevocationWatcher(options);
    try {
      w.version = await options.store.revocationVersion();
    } catch {
      // Store down at start: the first successful poll sets the version (and clears caches).
    }
    w.timer = setInterval(() => void w.poll(), options.pollMs);
    w.timer.unref();
    if (options.redisUrl !== undefined) await w.subscribe(options.redisUrl);
    return w;
  }

  private async subscribe(url: string): Promise<void> {
    const common = { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true } as const;
    this.subscriber = new Redis(url, common);
    this.publisher = new Redis(url, common);
    for (const r of [this.subscriber, this.publisher]) r.on('error', (err: Error) => this.options.logger.debug({ err: err.message }, 'revocation channel error'));
    this.subscriber.on('message', () => this.options.onChange());
    // Subscribe on every (re)connection: Redis may come up after the gateway.
    this.subscriber.on('ready', () => void this.subscriber?.subscribe(this.options.channel).catch(() => undefined));
    try {
      await Promise.all([this.subscriber.connect(), this.publisher.connect()]);
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'revocation pub/sub unavailable; relying on the store poll');
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const v = await this.options.store.revocationVersion();
      if (this.pollFailing) this.options.logger.info('revocation poll recovered');
      this.pollFailing = false;
      if (v !== this.version) {
        this.version = v;
        this.options.onChange();
      }
    } catch (err) {
      if (!this.pollFailing) this.options.logger.warn({ err: (err as Error).message }, 'revocation poll failed; cached decisions stay until it recovers');
      this.pollFailing = true;
    } finally {
      this.polling = false;
    }
  }

  /** Tells every process (this one included, by the caller) that credentials changed. */
  async announce(): Promise<void> {
    this.version = await this.options.store.bumpRevocationVersion();
    if (this.publisher?.status === 'ready') {
      await this.publisher.publish(this.options.channel, String(this.version)).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([this.subscriber?.quit(), this.publisher?.quit()]);
  }
}
