import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Keyed hashing of credentials (HMAC-SHA-256 with the server-side pepper from `secrets.pepper`).
 * Only these hashes are stored: a stolen database does not reveal keys, and without the pepper
 * it cannot even be used to test guesses offline.
 *
 * @example
 *   const hasher = new CredentialHasher(pepper);
 *   store.findKeyByHash(hasher.hash(presented));
 */
export class CredentialHasher {
  private readonly pepper: Buffer;

  constructor(pepper: string) {
    if (pepper.length < 32) throw new Error('the pepper must have at least 32 characters');
    this.pepper = Buffer.from(pepper, 'utf8');
  }

  /** Hex HMAC-SHA-256 of `credential`. */
  hash(credential: string): string {
    return createHmac('sha256', this.pepper).update(credential, 'utf8').digest('hex');
  }

  /** Constant-time comparison of two hex hashes (defence in depth after a lookup by hash). */
  static same(a: string, b: string): boolean {
    const x = Buffer.from(a, 'hex');
    const y = Buffer.from(b, 'hex');
    return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
  }
}
