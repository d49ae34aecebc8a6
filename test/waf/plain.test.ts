import { describe, expect, it } from 'vitest';
import { isPlain } from '../../src/waf/engine.js';
import { seeded } from '../helpers/seeded.js';

const PLAIN = /^[\p{L}\p{N}\s.,_@+-]*$/u;

describe('isPlain (the clean-value fast path)', () => {
  it('answers as the Unicode class regex for every UTF-16 code unit, alone and inside wide text', () => {
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      expect(isPlain(ch)).toBe(PLAIN.test(ch));
      // Inside a two-byte string (the table path) as well as on its own.
      const wide = `Собака ${ch} любит`;
      expect(isPlain(wide), `U+${c.toString(16)}`).toBe(PLAIN.test(wide));
    }
  });

  it('reads surrogate pairs as code points, as the regex does', () => {
    for (const s of ['𝒜𝒷𝒸 letters', 'emoji 😀 here', 'lone \ud800 high', 'lone \udc00 low', 'Café — 𠀀', '\ud835']) expect(isPlain(s), s).toBe(PLAIN.test(s));
  });

  it('matches the regex on generated mixes of ASCII, Latin-1 and wide characters', () => {
    const pool = ['a', 'Z', '7', ' ', '\t', '.', ',', '-', '_', '@', '+', "'", '"', '<', ';', 'é', 'ß', '—', '“', 'ж', '中', '٣', '\u00a0', '\u2028', '\u3000', '😀', '\u0301'];
    const next = seeded(11);
    for (let k = 0; k < 20_000; k++) {
      let s = '';
      for (let j = next(30); j > 0; j--) s += pool[next(pool.length)];
      expect(isPlain(s), JSON.stringify(s)).toBe(PLAIN.test(s));
    }
  });
});
