/**
 * Normalisation before inspection: attackers hide payloads behind encodings that the application
 * (or a library in front of it) undoes later. The engine inspects what the application will
 * eventually see, so every layer below is undone, repeatedly (double and triple encoding), with a
 * hard bound on rounds so crafted input cannot make decoding slow: each round is one linear pass.
 */

const MAX_ROUNDS = 4;

/** Named HTML entities that matter for injection (characters with syntactic meaning). */
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", colon: ':', tab: '\t', newline: '\n',
  lpar: '(', rpar: ')', sol: '/', bsol: '\\', semi: ';', comma: ',', period: '.', excl: '!',
  num: '#', dollar: '$', percnt: '%', lsqb: '[', rsqb: ']', lbrack: '[', rbrack: ']', lcub: '{',
  rcub: '}', lbrace: '{', rbrace: '}', grave: '`', equals: '=', plus: '+', ast: '*', vert: '|',
  verbar: '|', quest: '?', commat: '@', lowbar: '_', hyphen: '-', nbsp: ' ',
};

/** Index of the next `ch` from `from` on, or the length: the plain run before it is copied in one piece, not character by character. */
function runEnd(s: string, from: number, ch: string): number {
  const next = s.indexOf(ch, from);
  return next === -1 ? s.length : next;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/**
 * Percent-decoding that never throws: `%XX` runs are decoded as UTF-8 where valid, overlong UTF-8
 * forms (`%c0%ae` for `.`) are decoded to the character they encode (a classic filter bypass),
 * `%uXXXX` (IIS) is decoded, and malformed sequences are kept as they are.
 */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c !== 37 /* % */) {
      const end = runEnd(s, i, '%');
      out += s.slice(i, end);
      i = end;
      continue;
    }
    if (i + 5 < n && (s.charCodeAt(i + 1) | 32) === 117 /* u */ && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3)) && isHex(s.charCodeAt(i + 4)) && isHex(s.charCodeAt(i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
      i += 6;
      continue;
    }
    // Collect a run of %XX bytes, then decode it as (possibly overlong) UTF-8.
    const bytes: number[] = [];
    let j = i;
    while (j + 2 < n && s.charCodeAt(j) === 37 && isHex(s.charCodeAt(j + 1)) && isHex(s.charCodeAt(j + 2))) {
      bytes.push(hexVal(s.charCodeAt(j + 1)) * 16 + hexVal(s.charCodeAt(j + 2)));
      j += 3;
    }
    if (bytes.length === 0) {
      out += '%';
      i++;
      continue;
    }
    out += utf8Lenient(bytes);
    i = j;
  }
  return out;
}

/** UTF-8 decoding that accepts overlong forms and maps stray bytes to Latin-1. */
function utf8Lenient(bytes: readonly number[]): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b >= 0xf0 && b < 0xf8 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : 0;
    if (b < 0x80 || need === 0 || b >= 0xf8) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let cp = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    let ok = i + need < bytes.length;
    for (let k = 1; ok && k <= need; k++) {
      const cont = bytes[i + k];
      if (cont === undefined || (cont & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (cont & 0x3f);
    }
    if (!ok || cp > 0x10ffff) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

/** Numeric (`&#60;`, `&#x3c`, any number of leading zeros, optional `;`) and named entities. */
export function htmlEntityDecode(s: string): string {
  if (!s.includes('&')) return s;
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    if (s.charCodeAt(i) !== 38 /* & */) {
      const end = runEnd(s, i, '&');
      out += s.slice(i, end);
      i = end;
      continue;
    }
    let j = i + 1;
    if (s.charCodeAt(j) === 35 /* # */) {
      j++;
      const hex = (s.charCodeAt(j) | 32) === 120;
      if (hex) j++;
      const start = j;
      let cp = 0;
      while (j < n && (hex ? isHex(s.charCodeAt(j)) : s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57)) {
        cp = Math.min(cp * (hex ? 16 : 10) + (hex ? hexVal(s.charCodeAt(j)) : s.charCodeAt(j) - 48), 0x110000);
        j++;
      }
      if (j > start && cp > 0 && cp < 0x110000) {
        out += String.fromCodePoint(cp);
        i = s.charCodeAt(j) === 59 ? j + 1 : j;
        continue;
      }
    } else {
      const start = j;
      while (j < n && j - start < 10 && ((s.charCodeAt(j) | 32) >= 97 && (s.charCodeAt(j) | 32) <= 122)) j++;
      const name = s.slice(start, j).toLowerCase();
      const rep = NAMED_ENTITIES[name];
      if (rep !== undefined) {
        out += rep;
        i = s.charCodeAt(j) === 59 ? j + 1 : j;
        continue;
      }
    }
    out += '&';
    i++;
  }
  return out;
}

/** JavaScript/JSON-style escapes: `\uXXXX`, `\u{X…}`, `\xXX`. Other backslashes stay (Windows paths). */
export function escapeDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */ && i + 1 < n) {
      const t = s.charCodeAt(i + 1) | 32;
      if (t === 117 /* u */) {
        if (s.charCodeAt(i + 2) === 123 /* { */) {
          const close = s.indexOf('}', i + 3);
          if (close > i + 3 && close - i <= 10 && /^[0-9a-fA-F]+$/.test(s.slice(i + 3, close))) {
            const cp = parseInt(s.slice(i + 3, close), 16);
            if (cp < 0x110000) {
              out += String.fromCodePoint(cp);
              i = close + 1;
              continue;
            }
          }
        } else if (i + 5 < n && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3)) && isHex(s.charCodeAt(i + 4)) && isHex(s.charCodeAt(i + 5))) {
          out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
      } else if (t === 120 /* x */ && i + 3 < n && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3))) {
        out += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
        i += 4;
        continue;
      }
    }
    // A backslash that escapes nothing stays; other characters are copied up to the next backslash.
    const end = c === 92 ? i + 1 : runEnd(s, i, '\\');
    out += s.slice(i, end);
    i = end;
  }
  return out;
}

/** NUL or a character outside ASCII: what {@link fold} has to act on. */
// eslint-disable-next-line no-control-regex
const FOLD_SITE = /[^\u0001-\u007f]/g;
// eslint-disable-next-line no-control-regex
const NUL = /\u0000/g;

/**
 * A test of one UTF-16 code unit that `test` answers once per unit, the first time it is asked,
 * and a table (0 not yet known, 1 yes, 2 no) every later time: for tests that cost a regular
 * expression or ICU per character.
 */
export function codeUnitTest(test: (c: number) => boolean): (c: number) => boolean {
  const known = new Uint8Array(0x10000);
  return (c) => {
    let k = known[c]!;
    if (k === 0) k = known[c] = test(c) ? 1 : 2;
    return k === 1;
  };
}

/**
 * A character that NFKC leaves as it is wherever it stands: it has no decomposition (NFKD of it is
 * itself), it is not a mark (every character with a non-zero combining class is one, so it is never
 * reordered) and it is never the second character of a composition (those are marks, and the
 * conjoining Hangul vowels and trailing consonants U+1161–U+11C2, excluded with their block). A
 * run of such characters, with ASCII before and after it, is its own NFKC: nothing in it
 * decomposes, moves or composes. Accented Latin letters, typographic dashes and quotes, and most
 * letters of other scripts are; ICU is asked once per character.
 */
const isStable = codeUnitTest((c) => {
  const ch = String.fromCharCode(c);
  return (c < 0xd800 || c > 0xdfff) && (c < 0x1100 || c > 0x11ff) && ch.normalize('NFKD') === ch && !MARK.test(ch);
});
const MARK = /\p{M}/u;

/**
 * `s.normalize('NFKC')` without NUL characters, found in one scan for NUL and non-ASCII characters
 * (`includes('\u0000')` alone is a slow character-by-character loop over a two-byte string), and
 * with ICU run only on the parts of `s` that NFKC can change: each run of non-ASCII characters
 * together with the one character before it. Most text is ASCII with a few accented letters or
 * dashes, which would otherwise send the whole value through ICU.
 *
 * Why this is NFKC of the whole string: NFKC(x + y) = NFKC(x) + NFKC(y) whenever y starts with an
 * ASCII character A. NFKC is compatibility decomposition (NFKD), canonical reordering, then
 * canonical composition (UAX #15), and A takes part in none of them across the cut: every ASCII
 * character is its own NFKD and has combining class 0, so it decomposes to itself and reordering
 * (which only permutes adjacent characters of non-zero class) never moves anything across it;
 * composition combines a character C with the last starter L before it, but C is never A (no
 * primary composite, Hangul included, has an ASCII second character), and no C after A can reach
 * back past A (A is a starter, so it blocks every L before it). So the string can be cut before
 * every ASCII character. A piece that is all ASCII is its own NFKC; every other piece is a run of
 * non-ASCII characters and the one (ASCII) character before it, if any, which a combining mark in
 * the run may compose with (`e` + U+0301 → `é`); a run made only of characters NFKC never touches
 * ({@link isStable}) is left out of ICU altogether. Surrogate pairs are never cut (both halves are
 * non-ASCII). NUL is removed after folding, as before: NFKC keeps every NUL and makes none, so the
 * NULs found before folding are the ones after it. test/waf/normalize.test.ts checks all of this
 * against whole-string NFKC.
 */
function fold(s: string): string {
  FOLD_SITE.lastIndex = 0;
  let nul = false;
  let out = '';
  /** `s[from, …)` is not in `out` yet. */
  let from = 0;
  while (FOLD_SITE.test(s)) {
    const start = FOLD_SITE.lastIndex - 1;
    if (s.charCodeAt(start) === 0) {
      nul = true;
      continue;
    }
    let end = start + 1;
    let stable = isStable(s.charCodeAt(start));
    for (; end < s.length && s.charCodeAt(end) > 0x7f; end++) if (stable) stable = isStable(s.charCodeAt(end));
    FOLD_SITE.lastIndex = end;
    if (stable) continue;
    const cut = start === 0 ? 0 : start - 1;
    const piece = s.slice(cut, end);
    const folded = piece.normalize('NFKC');
    if (folded !== piece) {
      out += s.slice(from, cut) + folded;
      from = end;
    }
  }
  const whole = from === 0 ? s : out + s.slice(from);
  return nul ? whole.replace(NUL, '') : whole;
}

/**
 * All layers until nothing changes (at most {@link MAX_ROUNDS} rounds): percent, HTML entities,
 * escapes, then Unicode compatibility folding (fullwidth `＜` → `<`) and NUL removal. A layer
 * returns its input as it is when the input has none of the characters it decodes.
 *
 * @example
 *   normalize('%252e%252e%252fetc') // '../etc'
 */
export function normalize(input: string): string {
  let s = input;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = escapeDecode(htmlEntityDecode(percentDecode(s)));
    if (next === s) break;
    s = next;
  }
  return fold(s);
}
