/** Walks a whole audit store in order and checks the hash chain (used by `rampart audit-log verify`). */
import type { AuditStore } from '../../stores/audit.js';
import { ChainVerifier, type VerifyResult } from './chain.js';

const PAGE = 1000;

/**
 * Verifies every entry, page by page (memory stays flat however long the log is).
 *
 * @example
 *   const result = await verifyAuditStore(store, undefined);
 *   if (!result.ok) console.log(result.break);
 */
export async function verifyAuditStore(store: AuditStore, key: Buffer | undefined): Promise<VerifyResult> {
  // The head is read first: entries a running gateway appends during the walk lie beyond it.
  const head = await store.head();
  const verifier = new ChainVerifier(key);
  let cursor = 0;
  walk: for (;;) {
    const page = await store.query({ order: 'asc', cursor, limit: PAGE });
    for (const entry of page.entries) {
      if (entry.seq > head.seq) break walk;
      if (!verifier.add(entry)) break walk;
      cursor = entry.seq;
    }
    if (page.next === undefined) break;
  }
  const result = verifier.finish(head);
  if (!result.ok) return result;
  // Rows beyond the (re-read) head were not written by the audit writer.
  const latest = await store.head();
  const beyond = await store.query({ order: 'asc', cursor: latest.seq, limit: 1 });
  const extra = beyond.entries[0];
  if (extra === undefined) return result;
  return { ...result, ok: false, break: { seq: extra.seq, problem: 'unexpected-tail', detail: `entry ${extra.seq} lies beyond the head record (${latest.seq}): added outside the audit writer` } };
}
