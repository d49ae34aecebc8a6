/**
 * Access-token signing keys with scheduled rotation and overlap, on the shared stores: public
 * records in `SigningKeyStore`, private keys as encrypted secrets `signing/<kid>` in the
 * `SecretVault` (sealed under the master key). Time is cut into periods of `rotationMs`; the key of
 * period p is published from the start of p-1 (relying parties cache it before its first token),
 * signs during p, and stays published during p+1 (its tokens live less than one period). Kids are
 * deterministic per period: processes racing to create the next key converge on the first one stored.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { StoreConflictError, type SigningKeyRecord, type SigningKeyStore } from '../stores/contracts.js';
import type { SecretVault } from '../keys/secret-box.js';

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
 *   const ring = new SigningKeyRing(store, secrets, { alg: 'ES256', rotationMs: 7 * 86_400_000 });
 *   const { kid, key } = await ring.signer();
 */
export class SigningKeyRing {
  private keys = new Map<string, LoadedKey>();
  private syncedPeriod = Number.NaN;
  private syncing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly secrets: SecretVault,
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

  /** Makes sure the keys of this period and the next exist, and reloads the published set. */
  sync(): Promise<void> {
    this.syncing ??= this.doSync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async create(period: number): Promise<void> {
    const { alg, rotationMs } = this.options;
    const { publicKey, privateKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    const kid = this.kid(period);
    try {
      await this.store.createSigningKey({
        kid,
        algorithm: alg,
        publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' },
        createdAt: this.now(),
        activatesAt: period * rotationMs,
        retiresAt: (period + 1) * rotationMs,
        removeAt: (period + 2) * rotationMs,
      });
    } catch (err) {
      // Another process stored this period's key first: use theirs (its secret is theirs to write).
      if (err instanceof StoreConflictError) return;
      throw err;
    }
    await this.secrets.put(`signing/${kid}`, Buffer.from(privateKey.export({ format: 'pem', type: 'pkcs8' })));
  }

  private async doSync(): Promise<void> {
    const p = this.period();
    let records = await this.store.listSigningKeys(this.now());
    for (const period of [p, p + 1]) {
      if (!records.some((r) => r.kid === this.kid(period))) await this.create(period);
    }
    records = await this.store.listSigningKeys(this.now());
    const next = new Map<string, LoadedKey>();
    for (const record of records) {
      if (!record.kid.startsWith(`${this.options.alg}-`)) continue;
      const known = this.keys.get(record.kid);
      next.set(record.kid, known ?? { record, publicKey: createPublicKey({ key: record.publicJwk as JsonWebKey, format: 'jwk' }), privateKey: undefined });
    }
    this.keys = next;
    this.syncedPeriod = p;
  }

  /** The key that signs now (decrypted on first use). */
  async signer(): Promise<Signer> {
    if (this.syncedPeriod !== this.period()) await this.sync();
    const loaded = this.keys.get(this.kid(this.period()));
    if (loaded === undefined) throw new Error('no signing key for the current period');
    if (loaded.privateKey === undefined) {
      const pem = await this.secrets.get(`signing/${loaded.record.kid}`);
      if (pem === undefined) throw new Error(`private key of ${loaded.record.kid} not stored yet`);
      loaded.privateKey = createPrivateKey(pem);
    }
    return { kid: loaded.record.kid, alg: this.options.alg, key: loaded.privateKey };
  }

  /** Public keys currently published, oldest first. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].sort((a, b) => a.record.activatesAt - b.record.activatesAt).map((k) => k.record.publicJwk as JWK) };
  }

  /** Verification key for a token header; only published keys, only their own algorithm. */
  async resolve(header: { alg?: string; kid?: string }): Promise<KeyObject> {
    if (this.syncedPeriod !== this.period()) await this.sync();
    const loaded = header.kid === undefined ? undefined : this.keys.get(header.kid);
    if (loaded === undefined || loaded.record.algorithm !== header.alg) throw new Error(`no published signing key ${JSON.stringify(header.kid ?? null)} for ${header.alg ?? 'no alg'}`);
    return loaded.publicKey;
  }
}
