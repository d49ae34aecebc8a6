/**
 * normalize() folds Unicode compatibility forms only around non-ASCII characters (see `nfkc` in
 * src/waf/decode.ts for why that equals NFKC of the whole value). These tests hold it to the plain
 * definition: every decoding layer, then `String.prototype.normalize('NFKC')` of the whole string,
 * then NUL removal, on hand-picked cases and on many generated strings built from the characters
 * that interact with their neighbours under NFKC.
 */
import { describe, expect, it } from 'vitest';
import { escapeDecode, htmlEntityDecode, normalize, percentDecode } from '../../src/waf/decode.js';

/** normalize() as defined: decoding rounds, then whole-string NFKC, then NUL removal. */
function reference(input: string): string {
  let s = input;
  for (let round = 0; round < 4; round++) {
    const next = escapeDecode(htmlEntityDecode(percentDecode(s)));
    if (next === s) break;
    s = next;
  }
  return s.normalize('NFKC').replaceAll('\u0000', '');
}

/** Characters that compose, decompose, reorder or expand under NFKC, and plain ones around them. */
const POOL = [
  // ASCII: letters that marks compose with, punctuation, decoding triggers, NUL
  'a', 'e', 'o', 'u', 'A', 'E', 'n', 'N', 'k', 'z', '1', ' ', '<', '>', "'", '"', '.', '/', '%', '%41', '&lt;', '&#x3c;', '\\u003c', '\u0000',
  // combining marks (ccc 230, 220, 202…), a multi-mark decomposition, and marks that reorder
  '\u0301', '\u0300', '\u0308', '\u0323', '\u0327', '\u0307', '\u0344', '\u0345', '\u0338', '\u20d2', '\u3099', '\u309a',
  // precomposed letters and letters that take marks
  'é', 'Å', '\u212b', '\u2126', 'ǟ', 'ṩ', '\u1e9b', 'か', 'ウ', 'ﾊ', 'ﾞ', '\u0928', '\u093c', '\u0b47', '\u0b3e', '\u0cc6', '\u0cd5', '\u0dd9', '\u0dca',
  // compatibility forms: fullwidth, ligatures, super/subscripts, fractions, spaces, long expansions
  '＜', '＞', '＇', 'Ａ', 'ｅ', '\ufb01', '\ufb00', '\ufb03', 'ª', '²', '½', '\u00a0', '\u2002', '\u3000', '\u2024', '\u2025', '\ufdfa', '\u3392', '\u33a1', '\u2460', '\u1d2c',
  // Hangul: syllables (LV, LVT) and conjoining jamo (L, V, T) that compose
  '\uac00', '\uac01', '\u1100', '\u1161', '\u11a8', '\u3131',
  // prose: dashes, quotes, accented words
  '—', '’', '«', 'Café', 'Ⅻ',
  // astral characters (a surrogate pair each) and lone surrogates
  '\u{1d400}', '\u{1d7ce}', '\u{1f600}', '\u{2f800}', '\ud800', '\udc00',
];

/** A deterministic generator (xorshift), so a failure reproduces. */
function generator(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** Of `count` strings that `make` builds from a generator seeded with `seed`, those normalize() folds otherwise than {@link reference}. */
function differing(seed: number, count: number, make: (rnd: (n: number) => number) => string): string[] {
  const rnd = generator(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = make(rnd);
    if (normalize(s) !== reference(s)) out.push(s);
  }
  return out;
}

describe('normalize folds compatibility forms exactly as whole-string NFKC would', () => {
  it.each([
    ['e\u0301', 'é'],
    ['cafe\u0301 au lait', 'café au lait'],
    ['＜script＞', '<script>'],
    ['\ufb01le', 'file'],
    ['a\u0323\u0307b', 'ạ̇b'.normalize('NFKC')],
    ['\u1100\u1161\u11a8', '\uac01'],
    ['x\u3000y', 'x y'],
    ['Café — he sleeps', 'Café — he sleeps'],
    ['%ef%bc%9cscript%ef%bc%9e', '<script>'],
    ['a\u0000\u0301', 'a\u0301'],
    ['\u0301 starts', '\u0301 starts'],
    ['plain ascii', 'plain ascii'],
  ])('%j', (input, expected) => {
    expect(normalize(input)).toBe(expected);
    expect(normalize(input)).toBe(reference(input));
  });

  it('returns a value without non-ASCII characters or encodings as it is', () => {
    const value = 'Walks twice a day; "sit", "stay" (rabies)';
    expect(normalize(value)).toBe(value);
  });

  it('matches whole-string NFKC on 50,000 generated strings', () => {
    const differ = differing(0x9e3779b9, 50_000, (rnd) => {
      let s = '';
      const n = rnd(12);
      for (let k = 0; k < n; k++) s += rnd(4) === 0 ? String.fromCharCode(32 + rnd(95)) : POOL[rnd(POOL.length)]!;
      return s;
    });
    expect(differ).toEqual([]);
  });

  it('matches whole-string NFKC for every BMP character, alone, doubled and before a combining mark', () => {
    // Runs that NFKC cannot change skip ICU; every character is tried in the contexts that could change it.
    const differ: string[] = [];
    for (let c = 0x80; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      for (const s of [`a${ch}b`, `e${ch}${ch}.`, `o${ch}\u0301 `, `${ch}\u1161`]) if (normalize(s) !== reference(s)) differ.push(s);
    }
    expect(differ).toEqual([]);
  });

  it('matches whole-string NFKC on strings of random code points', () => {
    const differ = differing(12345, 20_000, (rnd) => {
      let s = '';
      const n = rnd(10);
      for (let k = 0; k < n; k++) {
        const kind = rnd(3);
        s += kind === 0 ? String.fromCharCode(32 + rnd(95)) : kind === 1 ? String.fromCharCode(0x80 + rnd(0x3000)) : String.fromCodePoint(rnd(0x110000));
      }
      return s;
    });
    expect(differ).toEqual([]);
  });
});
