/**
 * Cheap necessary conditions for the detectors' patterns. Most inspected values are prose, and a
 * regular expression run over a whole value costs about 1 µs per KB whether it matches or not; the
 * detectors have dozens. So before a pattern runs, a detector looks only where it could match: a
 * pattern `\beval\s*\(` needs a `(` whose callee is `eval`, `\bjava\.lang` a `.` after `java`.
 * These checks never decide alone: when one passes, the pattern still runs.
 *
 * The words that patterns need at a site (callees, objects…) are declared once per group with
 * {@link siteWords}; the sites of a value are then read once, for every group of every detector:
 * occurrences of the site character are found with indexOf (native and fast), and the word at each
 * is compared in place, by its first and last letters and length, with the words declared. Most
 * words of prose are let go without being copied out of the value.
 */

/** `\s` of a regular expression without the `u` flag. */
export function isRegexSpace(c: number): boolean {
  // Printable ASCII (33–126, most characters read) is settled by the first test.
  if (c > 32 && c < 0xa0) return false;
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** `\w` of a regular expression without the `u` flag. */
export function isRegexWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90);
}

/** A set of words, or a rule over words (`posix_…`). */
export interface Words {
  /** Whether the word `s[b, e)` is one, read in place: most words of prose are let go without being copied. */
  hasAt(s: string, b: number, e: number): boolean;
}

/** Where the run of `\s` that ends at `end` (exclusive) starts. */
export function spacesBack(s: string, end: number): number {
  let e = end;
  while (e > 0 && isRegexSpace(s.charCodeAt(e - 1))) e--;
  return e;
}

/** Where the run of `\s` that starts at `start` ends (exclusive). */
export function spacesForward(s: string, start: number): number {
  let e = start;
  while (e < s.length && isRegexSpace(s.charCodeAt(e))) e++;
  return e;
}

/** Where the run of `\w` that starts at `start` ends (exclusive). */
export function wordForward(s: string, start: number): number {
  let e = start;
  while (e < s.length && isRegexWord(s.charCodeAt(e))) e++;
  return e;
}

/** Where the run of `\w` that ends at `end` (exclusive) starts. */
function wordBack(s: string, end: number): number {
  let b = end;
  while (b > 0 && isRegexWord(s.charCodeAt(b - 1))) b--;
  return b;
}

/**
 * Words looked up in place by their shape: a table of 37 × 37 entries (bit `length` of entry
 * `first * 37 + last` is set when a word of that first and last character and length is held)
 * turns most other words away before any comparison (prose has many sites and few words of the
 * held shapes), and a word of a held shape is compared with the held words of its shape
 * in place, without being copied out of the text: a copy and a hash of a fresh string cost
 * several times the comparison. Each word carries bits (the groups it belongs to).
 */
class ShapeTable {
  private readonly shapes = new Uint32Array(37 * 37);
  /** The held words by shape entry, with their bits. */
  private readonly entries: { readonly text: string; readonly bits: number }[][] = [];

  /**
   * Enters `word` with `bits`. False when the word has no shape (a first or last character other
   * than `\w`, 32 and more long).
   */
  add(word: string, bits: number): boolean {
    const first = letterIndex(word.charCodeAt(0));
    const last = letterIndex(word.charCodeAt(word.length - 1));
    if (first === -1 || last === -1 || word.length >= 32) return false;
    const k = first * 37 + last;
    this.shapes[k]! |= 1 << word.length;
    (this.entries[k] ??= []).push({ text: word, bits });
    return true;
  }

  /** The bits of the held words equal to the non-empty `s[b, e)`; 0 for none. */
  bitsAt(s: string, b: number, e: number): number {
    const first = letterIndex(s.charCodeAt(b));
    const last = letterIndex(s.charCodeAt(e - 1));
    const length = e - b;
    if (first === -1 || last === -1 || length >= 32) return 0;
    const k = first * 37 + last;
    if (((this.shapes[k]! >>> length) & 1) === 0) return 0;
    let bits = 0;
    for (const w of this.entries[k]!) if (w.text.length === length && sameInside(s, b, w.text)) bits |= w.bits;
    return bits;
  }
}

/**
 * True when `s` at `b` has the characters of `word` between its first and last (which the shape
 * compared already): for the few letters of a word, a loop costs less than a call of `startsWith`.
 */
function sameInside(s: string, b: number, word: string): boolean {
  for (let i = word.length - 2; i > 0; i--) if (s.charCodeAt(b + i) !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * A set of words looked up through a shape table. Its words start and end with `a`–`z`, `0`–`9` or
 * `_` and are shorter than 32 (the constructor checks).
 */
export class WordSet implements Words {
  private readonly table = new ShapeTable();

  constructor(words: readonly string[]) {
    for (const w of words) if (!this.table.add(w, 1)) throw new Error(`word ${w} has no shape`);
  }

  hasAt(s: string, b: number, e: number): boolean {
    // The empty word has no shape and is in no WordSet.
    return b < e && this.table.bitsAt(s, b, e) !== 0;
  }
}

/**
 * True when some `ch` in `s` has a word before it in `words`: the maximal run of `\w` characters
 * that ends at `ch`, after skipping `\s` backwards when `gap` is set (the callee of `name (`, the
 * object of `name .`); the empty word when there is none. A pattern `\bname\s*\(` can only match
 * at a `(` whose word before is exactly `name`.
 */
export function wordBeforeIn(s: string, ch: string, gap: boolean, words: Words): boolean {
  for (let p = s.indexOf(ch); p !== -1; p = s.indexOf(ch, p + 1)) {
    const e = gap ? spacesBack(s, p) : p;
    if (words.hasAt(s, wordBack(s, e), e)) return true;
  }
  return false;
}

/**
 * The kinds of site, each a character and where its word is read, whitespace allowed in between
 * unless said: a `call` is the word before `(`, an `object` the word before `.`, a `property` the
 * word right after `.` (no whitespace: `\.innerhtml`, file extensions), a `scheme` the word before
 * `:`.
 */
export type SiteKind = 'call' | 'object' | 'property' | 'scheme';

interface Site {
  readonly ch: string;
  readonly after: boolean;
  readonly gap: boolean;
  /** Where the kind's sites are kept in {@link found}. */
  readonly slot: number;
}

const SITES: Readonly<Record<SiteKind, Site>> = {
  call: { ch: '(', after: false, gap: true, slot: 0 },
  object: { ch: '.', after: false, gap: true, slot: 1 },
  property: { ch: '.', after: true, gap: false, slot: 2 },
  scheme: { ch: ':', after: false, gap: true, slot: 3 },
};
/** Index of a `\w` character in the shape table (a–z, 0–9, `_`), or -1. */
function letterIndex(c: number): number {
  return c >= 97 && c <= 122 ? c - 97 : c >= 48 && c <= 57 ? c - 22 : c === 95 ? 36 : -1;
}

/** An affix rule: a word that starts (or ends) with `text` belongs to the groups in `bits`. */
interface Affix {
  readonly text: string;
  readonly bits: number;
}
const NO_AFFIXES: readonly Affix[] = [];

/** The words declared for one kind of site, by group (one bit each). */
class SiteMatcher {
  /** The declared words that have a shape (see {@link ShapeTable}). */
  readonly table = new ShapeTable();
  /** Declared words that the shape table cannot hold (other characters, 32 and more long): looked up always. */
  readonly odd = new Map<string, number>();
  /**
   * Affix rules by the code of the ASCII character at their edge (the first of a prefix, the last
   * of a suffix): a word is compared only with the rules of its own first and last characters. The
   * tables are full (128 entries): a read past the end of an array or of a hole is the slower path.
   */
  readonly prefixes: Affix[][] = Array.from({ length: 128 }, () => []);
  readonly suffixes: Affix[][] = Array.from({ length: 128 }, () => []);
  groups = 0;
  /**
   * Which last two characters a word of some group can end with, by {@link tailKey}: a word read
   * before its site (`march.`) whose end no declared word or suffix has is let go after two
   * characters, before its start is searched for. Prose words seldom end as a declared word does
   * (on PET_NOTES, 7 of the 9 words before a `.`, and all 3 before a `:`), and reading back to a
   * word's start cost more than its lookup. Off (`tails` undefined) for a kind with prefixes or odd
   * words, whose start decides.
   */
  tails: Uint8Array | undefined = new Uint8Array(37 * 38);

  /** Notes that a declared word or suffix ends with `text` (see {@link tails}). */
  addTail(text: string): void {
    const { tails } = this;
    if (tails === undefined) return;
    const last = letterIndex(text.charCodeAt(text.length - 1));
    if (last === -1) this.tails = undefined;
    else if (text.length === 1) tails.fill(1, last * 38, last * 38 + 38);
    else tails[tailKey(last, text.charCodeAt(text.length - 2))] = 1;
  }

  /** The groups (bits) of the word `s[b, e)`. */
  bitsOf(s: string, b: number, e: number): number {
    const length = e - b;
    let bits = this.table.bitsAt(s, b, e);
    if (this.odd.size !== 0) bits |= this.odd.get(s.slice(b, e)) ?? 0;
    const first = s.charCodeAt(b);
    const last = s.charCodeAt(e - 1);
    for (const a of first < 128 ? this.prefixes[first]! : NO_AFFIXES) if (length >= a.text.length && s.startsWith(a.text, b)) bits |= a.bits;
    for (const a of last < 128 ? this.suffixes[last]! : NO_AFFIXES) if (length >= a.text.length && s.startsWith(a.text, e - a.text.length)) bits |= a.bits;
    return bits;
  }
}

const MATCHERS: Readonly<Record<SiteKind, SiteMatcher>> = {
  call: new SiteMatcher(),
  object: new SiteMatcher(),
  property: new SiteMatcher(),
  scheme: new SiteMatcher(),
};

/**
 * The key of a word's end in {@link SiteMatcher.tails}: its last character's letter index `last`,
 * and the character `before` it, by its letter index or 37 for any other (none: a one-character
 * word; or not `a`–`z`, `0`–`9`, `_`). A word equal to a declared word, or ending with a suffix
 * of two or more characters, has that word's or suffix's key; a one-character suffix marks every
 * key of its last character.
 */
function tailKey(last: number, before: number): number {
  const i = letterIndex(before);
  return last * 38 + (i === -1 ? 37 : i);
}

/** The rules of `table` at the ASCII character `c` (affixes are declared with ASCII edges; checked). */
function affixTable(table: Affix[][], c: number): Affix[] {
  if (!(c < 128)) throw new Error('an affix edge must be ASCII');
  return table[c]!;
}

/** A group of words declared for one kind of site (see {@link siteWords}). */
export interface SiteWords extends Words {
  readonly kind: SiteKind;
  /** The kind's slot (see {@link Site}). */
  readonly slot: number;
  readonly bit: number;
}

/**
 * Declares the words a pattern needs at one kind of site: exact words, and words that start or end
 * with some text (for a pattern without `\b` there: `org\.apache` also matches after `xorg`).
 * Declared once, at module load.
 *
 * @example
 *   const SINKS = siteWords('call', ['eval', 'alert']);
 *   if (sitesIn(value, SINKS) && SINK.test(value)) …
 */
export function siteWords(kind: SiteKind, words: readonly string[], affixes: { readonly prefixes?: readonly string[]; readonly suffixes?: readonly string[] } = {}): SiteWords {
  const m = MATCHERS[kind];
  if (m.groups === 31) throw new Error(`too many groups of ${kind} words`);
  const bit = 1 << m.groups++;
  for (const w of words) {
    if (m.table.add(w, bit)) m.addTail(w);
    else {
      m.odd.set(w, (m.odd.get(w) ?? 0) | bit);
      m.tails = undefined;
    }
  }
  for (const text of affixes.prefixes ?? []) {
    affixTable(m.prefixes, text.charCodeAt(0)).push({ text, bits: bit });
    m.tails = undefined;
  }
  for (const text of affixes.suffixes ?? []) {
    affixTable(m.suffixes, text.charCodeAt(text.length - 1)).push({ text, bits: bit });
    m.addTail(text);
  }
  // In place, the word is compared as at a site: by its shape and edges before any copy.
  return { kind, slot: SITES[kind].slot, bit, hasAt: (s, b, e) => b < e && (m.bitsOf(s, b, e) & bit) !== 0 };
}

/** How the sites of one kind are read: its {@link Site} and its matcher. */
interface Reader extends Site {
  readonly matcher: SiteMatcher;
}

/** The kinds of site whose character is `kind`'s (`.` has two): they are read in one pass over its occurrences. */
function sharing(kind: SiteKind): readonly Reader[] {
  return (Object.keys(SITES) as SiteKind[]).filter((other) => SITES[other].ch === SITES[kind].ch).map((other) => ({ ...SITES[other], matcher: MATCHERS[other] }));
}
const SHARING: Readonly<Record<SiteKind, readonly Reader[]>> = {
  call: sharing('call'),
  object: sharing('object'),
  property: sharing('property'),
  scheme: sharing('scheme'),
};

/** Reads every site of `s` of `kind` and of the kinds that share its character, and keeps their groups in {@link found}. */
function readSites(s: string, kind: SiteKind): void {
  const readers = SHARING[kind];
  for (const r of readers) found[r.slot] = 0;
  const { ch } = SITES[kind];
  for (let p = s.indexOf(ch); p !== -1; p = s.indexOf(ch, p + 1)) {
    for (const { after, gap, slot, matcher } of readers) {
      let b: number;
      let e: number;
      if (after) {
        b = gap ? spacesForward(s, p + 1) : p + 1;
        e = wordForward(s, b);
      } else {
        e = gap ? spacesBack(s, p) : p;
        const { tails } = matcher;
        if (tails !== undefined) {
          // A last character other than `a`–`z`, `0`–`9`, `_` ends no declared word or suffix (an empty word is none).
          const last = letterIndex(s.charCodeAt(e - 1));
          if (last === -1 || tails[tailKey(last, s.charCodeAt(e - 2))] === 0) continue;
        }
        b = wordBack(s, e);
      }
      if (b < e) found[slot]! |= matcher.bitsOf(s, b, e);
    }
  }
}

/**
 * Sites of the value under inspection: every detector looks at the same value, so they are read
 * once per kind. The groups found, by slot; -1 for a kind not read yet (groups are bits 0–30, so
 * found groups are never negative).
 */
let sitesValue = '';
const found = new Int32Array(Object.keys(SITES).length).fill(-1);

/**
 * Forgets the sites read so far; the engine calls it before each value. What is remembered never
 * outlives one inspection: a request that repeats an earlier request's value pays for reading it
 * again, as traffic whose values do not repeat does (and a benchmark sending one body over and over
 * measures that cost).
 */
export function forgetSites(): void {
  sitesValue = '';
  found.fill(-1);
}

/**
 * True when some site of `s` of the group's kind has one of its words: `sitesIn(s, CALLS)` when `s`
 * calls one of them (`name(` or `name (`).
 */
export function sitesIn(s: string, words: SiteWords): boolean {
  if (s !== sitesValue) found.fill(-1);
  // Kept even when equal: a string with the same text as the one before (`decoded` and `lower` of
  // a value without capitals) is then compared whole once, not at every call, the later
  // comparisons being of the same string.
  sitesValue = s;
  if (found[words.slot] === -1) readSites(s, words.kind);
  return (found[words.slot]! & words.bit) !== 0;
}

/** The first character that is not `\s` (NaN for none): what a pattern anchored by `^\s*` sees first. */
export function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && isRegexSpace(s.charCodeAt(i))) i++;
  return s.charCodeAt(i);
}

/**
 * True when some `ch` (a character, or a few) in `s` has `text` right before it (after skipping
 * `\s` backwards when `gap` is set), word boundary or not: `s.includes(text + ch)` without
 * searching for `text`'s first letter, which prose is full of.
 */
export function textBefore(s: string, ch: string, gap: boolean, text: string): boolean {
  for (let p = s.indexOf(ch); p !== -1; p = s.indexOf(ch, p + 1)) {
    const e = gap ? spacesBack(s, p) : p;
    if (e >= text.length && s.startsWith(text, e - text.length)) return true;
  }
  return false;
}
