import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMasterKey, SecretBox, SecretDecryptionError, SecretVault } from '../../src/keys/secret-box.js';
import { openStore } from '../../src/stores/open.js';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/command.js';
import { tempDir } from '../helpers/gateway.js';

const mk = (id: string): string => `${id}:${randomBytes(32).toString('base64')}`;

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), env };
  return { code: await main(args, io), out, err };
}

describe('secrets at rest (AES-256-GCM)', () => {
  const box = new SecretBox(parseMasterKey(mk('k1')), []);

  it('round-trips; the ciphertext holds no plaintext and differs each time', () => {
    const a = box.seal('upstream/x', Buffer.from('hunter2-password'));
    const b = box.seal('upstream/x', Buffer.from('hunter2-password'));
    expect(a.keyId).toBe('k1');
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.ciphertext).not.toContain('hunter2');
    expect(box.open('upstream/x', a).toString()).toBe('hunter2-password');
  });

  it('refuses a tampered ciphertext, a ciphertext moved to another name, and an unknown key id', () => {
    const a = box.seal('upstream/x', Buffer.from('v'));
    const [iv, tag, body] = a.ciphertext.split('.');
    const flipped = Buffer.from(body!, 'base64');
    flipped[0]! ^= 1;
    expect(() => box.open('upstream/x', { ...a, ciphertext: `${iv}.${tag}.${flipped.toString('base64')}` })).toThrow(SecretDecryptionError);
    expect(() => box.open('upstream/y', a)).toThrow(SecretDecryptionError);
    expect(() => box.open('upstream/x', { ...a, keyId: 'k9' })).toThrow(/unknown master key k9/);
    expect(() => box.open('upstream/x', { ...a, ciphertext: 'garbage' })).toThrow(SecretDecryptionError);
  });

  it('rejects malformed master keys', () => {
    expect(() => parseMasterKey('nokey')).toThrow();
    expect(() => parseMasterKey(`k1:${randomBytes(16).toString('base64')}`)).toThrow();
  });

  it('rampart secrets rotate-master re-encrypts every secret under the new key; old ones keep decrypting until then', async () => {
    const dir = tempDir();
    const oldKey = mk('k1');
    const newKey = mk('k2');
    const config = join(dir, 'rampart.yaml');
    const store = await openStore(`sqlite:${join(dir, 'r.db')}`);
    const before = new SecretVault(store, new SecretBox(parseMasterKey(oldKey), []));
    await before.put('webhook/slack', Buffer.from('https://hooks.example/abc'));
    await before.put('upstream/db', Buffer.from('pw'));
    // Step 1: new key current, old key still accepted.
    writeFileSync(config, `store: sqlite:r.db\nsecrets:\n  pepper: ${'p'.repeat(40)}\n  masterKey: \${env:MK}\n  previousMasterKeys: ["\${env:OLD}"]\n`);
    const during = new SecretVault(store, new SecretBox(parseMasterKey(newKey), [parseMasterKey(oldKey)]));
    expect((await during.get('webhook/slack'))?.toString()).toBe('https://hooks.example/abc');
    const r = await cli(['secrets', 'rotate-master', '--config', config, '--json'], { MK: newKey, OLD: oldKey });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ masterKeyId: 'k2', reencrypted: 2, total: 2 });
    expect((await store.listSecrets()).every((s) => s.keyId === 'k2')).toBe(true);
    // Step 3: old key removed; everything still decrypts.
    const after = new SecretVault(store, new SecretBox(parseMasterKey(newKey), []));
    expect((await after.get('upstream/db'))?.toString()).toBe('pw');
    const again = await cli(['secrets', 'rotate-master', '--config', config, '--json'], { MK: newKey, OLD: oldKey });
    expect(JSON.parse(again.out)).toMatchObject({ reencrypted: 0 });
    await store.close();
  });

  it('rampart migrate applies pending migrations once; bad usage exits 2', async () => {
    const dir = tempDir();
    const config = join(dir, 'rampart.yaml');
    writeFileSync(config, 'store: sqlite:m.db\n');
    const first = await cli(['migrate', '--config', config, '--json']);
    expect(first.code, first.err).toBe(0);
    expect(JSON.parse(first.out).applied).toContain('0001_keys_consumers_and_keys');
    expect(JSON.parse((await cli(['migrate', '--config', config, '--json'])).out)).toEqual({ applied: [] });
    expect((await cli(['migrate', 'extra'])).code).toBe(2);
    expect((await cli(['secrets', 'rotate'])).code).toBe(2);
    expect((await cli(['keys', 'create'], { RAMPART_ADMIN_TOKEN: 'x' })).code).toBe(2);
    expect((await cli(['consumers', 'list'])).err).toContain('RAMPART_ADMIN_TOKEN');
  });
});
