import { describe, expect, it } from 'vitest';
import { credentialPrefix, generateCredential, parseCredential } from '../../src/keys/format.js';

describe('credential format', () => {
  it('generates rk_live_/rk_test_/rk_admin_ credentials that parse, with ≥160 bits of body', () => {
    for (const kind of ['rk_live', 'rk_test', 'rk_admin'] as const) {
      const c = generateCredential(kind);
      expect(c).toMatch(new RegExp(`^${kind}_[0-9A-Za-z]{28}_[0-9A-Za-z]{6}$`));
      expect(28 * Math.log2(62)).toBeGreaterThan(160);
      expect(parseCredential(c)).toEqual({ ok: true, kind, prefix: credentialPrefix(c) });
    }
  });

  it('never repeats', () => {
    const seen = new Set(Array.from({ length: 2000 }, () => generateCredential('rk_live')));
    expect(seen.size).toBe(2000);
  });

  it('refuses a single mistyped character through the checksum', () => {
    const c = generateCredential('rk_live');
    const i = 12;
    const typo = c.slice(0, i) + (c[i] === 'a' ? 'b' : 'a') + c.slice(i + 1);
    expect(parseCredential(typo)).toEqual({ ok: false, reason: 'credential checksum mismatch' });
  });

  it('accepts every generated credential and refuses any other check digits', () => {
    const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    for (let n = 0; n < 500; n++) {
      const c = generateCredential(n % 2 === 0 ? 'rk_live' : 'rk_admin');
      expect(parseCredential(c).ok).toBe(true);
      // Each check digit replaced by each other digit: always a mismatch (upper and lower case differ too).
      const at = c.length - 1 - (n % 6);
      for (const d of digits) {
        if (d === c[at]) continue;
        expect(parseCredential(c.slice(0, at) + d + c.slice(at + 1))).toEqual({ ok: false, reason: 'credential checksum mismatch' });
      }
    }
  });

  it('refuses wrong shapes and oversized input', () => {
    for (const bad of ['', 'rk_live_', 'rk_prod_' + 'a'.repeat(28) + '_aaaaaa', 'rk_live_' + 'a'.repeat(27) + '_aaaaaa', 'x'.repeat(10_000), 'rk_live_' + 'a'.repeat(28) + '_aaaaa!']) {
      expect(parseCredential(bad).ok).toBe(false);
    }
  });

  it('keeps a short non-secret display prefix', () => {
    const c = generateCredential('rk_live');
    expect(credentialPrefix(c)).toBe(c.slice(0, 16));
  });
});
