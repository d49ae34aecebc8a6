/**
 * Access-token signing keys with scheduled rotation and overlap. Time is cut into periods of
 * `rotationMs`; the key of period p signs during p, is published from the start of p-1 (so relying
 * parties have it cached before the first token appears) and stays published during p+1 (tokens it
 * signed live at most `tokenTtl` < one period). Kids are deterministic per period, so processes that
 * race to create the next key converge on the one that reached the store first.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { OAuthStore, SigningKeyRecord } from './store.js';
import type { Sealer } from './sealer.js';

interface LoadedKey {
  readonly record: SigningKeyRecord;
  readonly publicKey: KeyObject;
  privateKey: KeyObject | undefined;
}

export interface Signer {
  readonly kid: string;
  readonly alg: 'ES256' | 'EdDSA';
  readonly key: KeyObject;
}

/**
 * @example
 *   const ring = new SigningKeyRing(store, sealer, { alg: 'ES256', rotationMs: 7 * 86_400_000 });
 *   const { kid, key } = await ring.signer();
 */
export class SigningKeyRing {
  private keys = new Map<string, LoadedKey>();
  private syncedPeriod = Number.NaN;
  private syncing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly store: OAuthStore,
    private readonly sealer: Sealer,
    private readonly options: { alg: 'ES256' | 'EdDSA'; rotationMs: number; now?: () => number },
  ) {
    this.now = options.now ?? Date.now;
  }

  private period(): number {
    return Math.floor(this.now() / this.options.rotationMs);
  }

  private kid(period: number): string {
    return `${this.options.alg}-${period}`;
  }

  /** Makes sure the keys of this period and the next exist, drops expired ones, reloads the set. */
  sync(): Promise<void> {
    this.syncing ??= this.doSync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const p = this.period();
    for (const period of [p, p + 1]) {
      if (this.keys.has(this.kid(period))) continue;
      const { publicKey, privateKey } = this.options.alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
      const kid = this.kid(period);
      await this.store.addSigningKey({
        kid,
        alg: this.options.alg,
        period,
        publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: this.options.alg, use: 'sig' },
        privateSealed: this.sealer.seal(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
        createdAt: this.now(),
      });
    }
    await this.store.deleteSigningKeysBefore(p - 1);
    const next = new Map<string, LoadedKey>();
    for (const record of await this.store.listSigningKeys(p - 1)) {
      const known = this.keys.get(record.kid);
      next.set(record.kid, known ?? { record, publicKey: createPublicKey({ key: record.publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }), privateKey: undefined });
    }
    this.keys = next;
    this.syncedPeriod = p;
  }

  /** The key that signs now (unsealed on first use). */
  async signer(): Promise<Signer> {
    if (this.syncedPeriod !== this.period()) await this.sync();
    const loaded = this.keys.get(this.kid(this.period()));
    if (loaded === undefined) throw new Error('no signing key for the current period');
    loaded.privateKey ??= createPrivateKey(this.sealer.open(loaded.record.privateSealed));
    return { kid: loaded.record.kid, alg: loaded.record.alg, key: loaded.privateKey };
  }

  /** Public keys currently published (previous, current and next period). */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.record.publicJwk) };
  }

  /** Verification key for a token header; only published keys, only their own algorithm. */
  async resolve(header: { alg?: string; kid?: string }): Promise<KeyObject> {
    if (this.syncedPeriod !== this.period()) await this.sync();
    const loaded = header.kid === undefined ? undefined : this.keys.get(header.kid);
    if (loaded === undefined || loaded.record.alg !== header.alg) throw new Error(`no published signing key ${JSON.stringify(header.kid ?? null)} for ${header.alg ?? 'no alg'}`);
    return loaded.publicKey;
  }
}
