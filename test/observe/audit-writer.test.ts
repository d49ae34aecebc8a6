/**
 * The audit writer keeps the request path free: while the store is down events are buffered
 * (bounded; overflow dropped and counted), then written in order once it is back; the chain verifies.
 */
import { afterAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { openAuditStore } from '../../src/stores/open-audit.js';
import type { AuditRecord, AuditStore } from '../../src/stores/audit.js';
import { AuditWriter } from '../../src/observe/audit/writer.js';
import { GatewayMetrics } from '../../src/observe/metrics.js';
import { verifyAuditStore } from '../../src/observe/audit/verify.js';
import { tempDir } from '../helpers/gateway.js';

/** A real SQLite store behind a switch that simulates an outage. */
function switchable(inner: AuditStore): AuditStore & { down: boolean } {
  return {
    down: false,
    append(records) {
      return this.down ? Promise.reject(new Error('store unreachable')) : inner.append(records);
    },
    query: (q) => inner.query(q),
    head: () => inner.head(),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

const rec = (i: number): AuditRecord => ({ time: i, type: 'auth.failure', severity: 'low', source: 'test', reason: `#${i}` });

describe('AuditWriter', () => {
  const dir = tempDir();
  let store: AuditStore;
  afterAll(() => store.close());

  it('buffers while the store is down, drops (and counts) past maxQueue, writes in order when it is back', async () => {
    store = await openAuditStore('sqlite:audit.db', { baseDir: dir });
    const flaky = switchable(store);
    const metrics = new GatewayMetrics({ processMetrics: false });
    const writer = new AuditWriter(flaky, { batchSize: 40, flushDelayMs: 0, maxQueue: 100, retryMs: 60_000 }, metrics, pino({ level: 'silent' }));
    flaky.down = true;
    const accepted = Array.from({ length: 150 }, (_, i) => writer.enqueue(rec(i)));
    expect(accepted.filter(Boolean)).toHaveLength(100);
    await writer.flush();
    expect((await metrics.auditDropped.get()).values[0]!.value).toBe(50);
    expect((await metrics.componentUp.get()).values[0]!.value).toBe(0);
    expect((await store.head()).seq).toBe(0);

    flaky.down = false;
    await writer.flush();
    const head = await store.head();
    expect(head.seq).toBe(100);
    const first = await store.query({ order: 'asc', limit: 3 });
    expect(first.entries.map((e) => e.reason)).toEqual(['#0', '#1', '#2']);
    expect((await metrics.componentUp.get()).values[0]!.value).toBe(1);
    expect((await metrics.auditWritten.get()).values[0]!.value).toBe(100);
    expect((await verifyAuditStore(store, undefined)).ok).toBe(true);
    await writer.close();
  });

  it('enqueue only queues (no I/O on the request path); batches are written later', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    const writer = new AuditWriter(store, { batchSize: 500, flushDelayMs: 50, maxQueue: 50_000, retryMs: 1000 }, metrics, pino({ level: 'silent' }));
    const before = (await store.head()).seq;
    for (let i = 0; i < 2000; i++) writer.enqueue(rec(i));
    expect((await metrics.auditQueue.get()).values[0]!.value).toBe(2000);
    expect((await store.head()).seq).toBe(before);
    await writer.close();
    expect((await store.head()).seq).toBe(before + 2000);
  });
});
