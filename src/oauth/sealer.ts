/**
 * Seals signing keys at rest: AES-256-GCM under the `oauth.encryptionKey` (or a development key
 * file), so a copy of the database alone does not let anyone mint tokens.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string;
}

/**
 * @example
 *   const sealer = aesGcmSealer(randomBytes(32));
 *   sealer.open(sealer.seal('secret')) === 'secret';
 */
export function aesGcmSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error('the sealing key must be 32 bytes');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    open(sealed) {
      const [v, iv, tag, ct] = sealed.split('.');
      if (v !== 'v1' || iv === undefined || tag === undefined || ct === undefined) throw new Error('unknown sealed format');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** The configured key, or a development key file under `<baseDir>/.rampart/` (created once, 0600). */
export function sealingKey(configured: string | undefined, baseDir: string, logger: Logger): Buffer {
  if (configured !== undefined) return Buffer.from(configured, 'base64');
  const dir = join(baseDir, '.rampart');
  const file = join(dir, 'oauth-encryption.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  logger.warn({ file }, 'oauth.encryptionKey not set: using a generated development key file; set it for production and for several processes');
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}
