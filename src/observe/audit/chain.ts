/**
 * The audit log's hash chain. Each entry's hash covers the previous entry's hash and every field
 * of the entry in a fixed order, so an edited, removed, inserted or reordered entry changes every
 * hash after it. With a chain key (HMAC-SHA-256) someone who can write the table but does not hold
 * the key cannot recompute a consistent chain after tampering.
 */
import { createHash, createHmac } from 'node:crypto';
import type { AuditEntry, AuditRecord } from '../../stores/audit.js';

/** `prevHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bumped if the hashed layout ever changes; part of every hash. */
const CHAIN_VERSION = 1;

/**
 * Hash of one entry given its predecessor's hash.
 *
 * @example
 *   const hash = chainHash(GENESIS_HASH, { seq: 1, time: 0, type: 'auth.failure', ... }, undefined);
 */
export function chainHash(prevHash: string, entry: AuditRecord & { readonly seq: number }, key: Buffer | undefined): string {
  const canonical = JSON.stringify([
    CHAIN_VERSION,
    entry.seq,
    entry.time,
    entry.type,
    entry.severity,
    entry.source,
    entry.code ?? null,
    entry.reason ?? null,
    entry.requestId ?? null,
    entry.clientIp ?? null,
    entry.consumer ?? null,
    entry.route ?? null,
    entry.method ?? null,
    entry.path ?? null,
    entry.data ?? null,
  ]);
  const h = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  return h.update(prevHash).update('\n').update(canonical).digest('hex');
}

/** Where and why the chain stops being trustworthy. */
export interface ChainBreak {
  /** Sequence number of the first entry that does not verify (or the first missing one). */
  readonly seq: number;
  readonly problem: 'hash-mismatch' | 'prev-mismatch' | 'gap' | 'missing-tail' | 'unexpected-tail';
  readonly detail: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** Entries checked. */
  readonly checked: number;
  /** Last verified entry (seq and hash), the value to anchor elsewhere. */
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly break?: ChainBreak;
}

/**
 * Incremental verifier: feed entries in ascending `seq` order, then `finish(head)` with the store's
 * head record (which catches removal of the newest entries).
 *
 * @example
 *   const v = new ChainVerifier(key);
 *   for (const e of entries) if (!v.add(e)) break;
 *   const result = v.finish(await store.head());
 */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private prevSeq = 0;
  private checked = 0;
  private broken: ChainBreak | undefined;

  constructor(private readonly key: Buffer | undefined) {}

  /** Checks one entry; returns false once the chain is broken (later entries are not checked). */
  add(entry: AuditEntry): boolean {
    if (this.broken !== undefined) return false;
    if (entry.seq !== this.prevSeq + 1) {
      this.broken = {
        seq: this.prevSeq + 1,
        problem: 'gap',
        detail: entry.seq > this.prevSeq + 1 ? `entries ${this.prevSeq + 1}..${entry.seq - 1} are missing` : `entry ${entry.seq} is out of order`,
      };
      return false;
    }
    if (entry.prevHash !== this.prevHash) {
      this.broken = { seq: entry.seq, problem: 'prev-mismatch', detail: `entry ${entry.seq} does not link to entry ${this.prevSeq}` };
      return false;
    }
    if (chainHash(this.prevHash, entry, this.key) !== entry.hash) {
      this.broken = { seq: entry.seq, problem: 'hash-mismatch', detail: `entry ${entry.seq} was modified (its hash does not match its content)` };
      return false;
    }
    this.prevHash = entry.hash;
    this.prevSeq = entry.seq;
    this.checked++;
    return true;
  }

  finish(head: { seq: number; hash: string }): VerifyResult {
    if (this.broken === undefined && head.seq !== this.prevSeq) {
      this.broken =
        head.seq > this.prevSeq
          ? { seq: this.prevSeq + 1, problem: 'missing-tail', detail: `entries ${this.prevSeq + 1}..${head.seq} are missing (the head record says ${head.seq})` }
          : { seq: head.seq + 1, problem: 'unexpected-tail', detail: `entries after ${head.seq} were added outside the audit writer` };
    } else if (this.broken === undefined && head.hash !== this.prevHash) {
      this.broken = { seq: this.prevSeq, problem: 'hash-mismatch', detail: `the head record does not match entry ${this.prevSeq}` };
    }
    const result = { checked: this.checked, lastSeq: this.prevSeq, lastHash: this.prevHash };
    return this.broken === undefined ? { ok: true, ...result } : { ok: false, ...result, break: this.broken };
  }
}

/**
 * Chains a batch onto the current head. Called by the backends inside their write transaction,
 * after locking the head, so concurrent writers (several gateway processes) never fork the chain.
 */
export function chainRecords(head: { seq: number; hash: string }, records: readonly AuditRecord[], key: Buffer | undefined): AuditEntry[] {
  let prevHash = head.hash;
  let seq = head.seq;
  return records.map((r) => {
    seq++;
    const entry = { ...r, seq, prevHash, hash: chainHash(prevHash, { ...r, seq }, key) };
    prevHash = entry.hash;
    return entry;
  });
}
