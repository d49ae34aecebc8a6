/**
 * Moves security events from the request path into the audit store without slowing it: `enqueue`
 * only pushes to a bounded in-memory queue; batches are written asynchronously in one transaction
 * each. While the store is down the queue holds up to `maxQueue` events (retrying every
 * `retryMs`); past that, new events are dropped and counted (`rampart_audit_dropped_total`).
 */
import type { Logger } from 'pino';
import type { AuditEntry, AuditRecord, AuditStore } from '../../stores/audit.js';
import type { GatewayMetrics } from '../metrics.js';

export interface AuditWriterOptions {
  readonly batchSize: number;
  readonly flushDelayMs: number;
  readonly maxQueue: number;
  readonly retryMs: number;
}

/**
 * @example
 *   const writer = new AuditWriter(store, { batchSize: 500, flushDelayMs: 50, maxQueue: 50_000, retryMs: 1000 }, metrics, logger);
 *   writer.enqueue(record);
 *   await writer.close(); // flushes what is queued
 */
export class AuditWriter {
  private queue: AuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private closed = false;
  private failing = false;
  /** Called with each batch once it is durably written (detectors, tests). */
  onWritten: ((entries: readonly AuditEntry[]) => void) | undefined;

  constructor(
    private readonly store: AuditStore,
    private readonly options: AuditWriterOptions,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {
    metrics.componentUp.set({ component: 'audit_store' }, 1);
  }

  /** Queues one record; never blocks and never throws. Returns false when it had to be dropped. */
  enqueue(record: AuditRecord): boolean {
    if (this.queue.length >= this.options.maxQueue) {
      this.metrics.auditDropped.inc();
      return false;
    }
    this.queue.push(record);
    this.metrics.auditQueue.set(this.queue.length);
    this.schedule(this.failing ? this.options.retryMs : this.options.flushDelayMs);
    return true;
  }

  /** Writes everything queued now (joining a write in progress). Resolves even if the store fails. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.pump();
  }

  /** Flushes and stops scheduling writes. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined || this.pumping !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pump();
    }, delay);
    this.timer.unref();
  }

  /** The single writer loop: at most one transaction in flight, batches in queue order. */
  private pump(): Promise<void> {
    if (this.pumping === undefined) {
      const run = async (): Promise<void> => {
        while (this.queue.length > 0) if (!(await this.writeBatch())) return;
      };
      // `finally` runs asynchronously, so `pumping` is always cleared after it was set.
      this.pumping = run().finally(() => {
        this.pumping = undefined;
        if (this.queue.length > 0) this.schedule(this.options.retryMs);
      });
    }
    return this.pumping;
  }

  /** Writes one batch; on failure the batch stays at the head of the queue (order is kept). */
  private async writeBatch(): Promise<boolean> {
    const batch = this.queue.slice(0, this.options.batchSize);
    try {
      const entries = await this.store.append(batch);
      this.queue.splice(0, batch.length);
      this.metrics.auditWritten.inc(entries.length);
      this.metrics.auditQueue.set(this.queue.length);
      const last = entries[entries.length - 1];
      if (last !== undefined) this.metrics.auditHead.set(last.seq);
      if (this.failing) this.logger.info('audit store reachable again; queued events written');
      this.failing = false;
      this.metrics.componentUp.set({ component: 'audit_store' }, 1);
      this.onWritten?.(entries);
      return true;
    } catch (err) {
      this.metrics.auditWriteFailures.inc();
      this.metrics.componentUp.set({ component: 'audit_store' }, 0);
      if (!this.failing) this.logger.error({ err: (err as Error).message, queued: this.queue.length }, 'audit store write failed; events are queued and retried');
      this.failing = true;
      return false;
    }
  }
}
