/**
 * Secrets at rest: AES-256-GCM under a master key that has an id. Every ciphertext names the key
 * that made it, so a new master key can be introduced while old ciphertexts still decrypt, and
 * `rampart secrets rotate-master` re-encrypts them in the background without downtime.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretStore } from '../stores/contracts.js';

export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/** Parses `ID:BASE64` (32 bytes). */
export function parseMasterKey(text: string): MasterKey {
  const colon = text.indexOf(':');
  const key = Buffer.from(text.slice(colon + 1), 'base64');
  if (colon < 1 || key.length !== 32) throw new Error('a master key is ID:BASE64 of 32 bytes');
  return { id: text.slice(0, colon), key };
}

/** Thrown when a ciphertext was altered, moved to another name, or made with an unknown key. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * Encrypts and decrypts with the current master key (and earlier ones for decryption only).
 *
 * @example
 *   const box = new SecretBox(parseMasterKey('k1:…'), []);
 *   const sealed = box.seal('upstream/billing', Buffer.from('hunter2'));
 *   box.open('upstream/billing', sealed) // Buffer 'hunter2'
 */
export class SecretBox {
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(readonly current: MasterKey, previous: readonly MasterKey[]) {
    this.keys = new Map([...previous.map((k) => [k.id, k.key] as const), [current.id, current.key]]);
  }

  /** `name` is authenticated data: a ciphertext copied to another name does not decrypt. */
  seal(name: string, plaintext: Buffer): { keyId: string; ciphertext: string } {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { keyId: this.current.id, ciphertext: `${iv.toString('base64')}.${cipher.getAuthTag().toString('base64')}.${body.toString('base64')}` };
  }

  open(name: string, sealed: { keyId: string; ciphertext: string }): Buffer {
    const key = this.keys.get(sealed.keyId);
    if (key === undefined) throw new SecretDecryptionError(`secret ${name} is encrypted with unknown master key ${sealed.keyId}`);
    const [iv, tag, body] = sealed.ciphertext.split('.').map((p) => Buffer.from(p, 'base64'));
    if (iv?.length !== 12 || tag?.length !== 16 || body === undefined) throw new SecretDecryptionError(`secret ${name} is malformed`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new SecretDecryptionError(`secret ${name} failed authentication`);
    }
  }
}

/**
 * Named, encrypted secrets in the store (upstream credentials, webhook secrets, signing keys).
 *
 * @example
 *   await services.secrets.put('webhook/slack', Buffer.from(url));
 *   const url = (await services.secrets.get('webhook/slack'))?.toString();
 */
export class SecretVault {
  constructor(private readonly store: SecretStore, private readonly box: SecretBox, private readonly now: () => number = Date.now) {}

  async put(name: string, value: Buffer): Promise<void> {
    await this.store.putSecret({ name, ...this.box.seal(name, value), updatedAt: this.now() });
  }

  async get(name: string): Promise<Buffer | undefined> {
    const record = await this.store.getSecret(name);
    return record === undefined ? undefined : this.box.open(name, record);
  }

  delete(name: string): Promise<boolean> {
    return this.store.deleteSecret(name);
  }

  /** Re-encrypts every secret not under the current master key; returns how many changed. */
  async rotateMaster(): Promise<{ reencrypted: number; total: number }> {
    const all = await this.store.listSecrets();
    let reencrypted = 0;
    for (const record of all) {
      if (record.keyId === this.box.current.id) continue;
      await this.put(record.name, this.box.open(record.name, record));
      reencrypted++;
    }
    return { reencrypted, total: all.length };
  }
}
