/**
 * The revocation list every gateway process keeps in memory: refreshed from the store every
 * `pollMs` (so a revocation made through any process is refused by all within about that time),
 * and updated at once for revocations made by this process.
 */
import type { Logger } from 'pino';
import type { TokenRevocations } from '../auth/revocation.js';
import type { OAuthStore, RevocationRecord } from './store.js';

/** The revocation entry that stands for all tokens of a revoked client (token ids never contain ':'). */
export function clientRevocationKey(clientId: string): string {
  return `client:${clientId}`;
}

/** Processes' clocks differ: each poll re-reads this far back so no revocation falls in a gap. */
const CLOCK_OVERLAP_MS = 5_000;

/**
 * @example
 *   const list = new RevocationList(store, { pollMs: 1000, logger });
 *   await list.start(); list.isRevoked('jti-1');
 */
export class RevocationList implements TokenRevocations {
  private readonly revoked = new Map<string, number>();
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly store: OAuthStore, private readonly options: { pollMs: number; logger: Logger; now?: () => number }) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  isRevoked(jti: string): boolean {
    const exp = this.revoked.get(jti);
    return exp !== undefined && exp > this.now();
  }

  isClientRevoked(clientId: string): boolean {
    return this.revoked.size > 0 && this.isRevoked(clientRevocationKey(clientId));
  }

  /** Adds a revocation made by this process (it is also in the store for the others). */
  add(record: RevocationRecord): void {
    this.revoked.set(record.jti, record.expiresAt);
  }

  async poll(): Promise<void> {
    const now = this.now();
    try {
      for (const r of await this.store.listRevocations(Math.max(0, this.cursor - CLOCK_OVERLAP_MS), now)) {
        this.revoked.set(r.jti, r.expiresAt);
        if (r.revokedAt > this.cursor) this.cursor = r.revokedAt;
      }
      for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
    } catch (err) {
      // Known revocations stay in force; new ones arrive at the next successful poll.
      this.options.logger.error({ err: (err as Error).message }, 'revocation list refresh failed');
    }
  }
}
