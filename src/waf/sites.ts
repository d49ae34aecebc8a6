/**
 * Cheap necessary conditions for the detectors' patterns. Most inspected values are prose, and a
 * regular expression run over a whole value costs about 1 µs per KB whether it matches or not; the
 * detectors have dozens. So before a pattern runs, a detector looks only where it could match: a
 * pattern `\beval\s*\(` needs a `(` whose callee is `eval`, `\bjava\.lang` a `.` after `java`.
 * Occurrences of a character are found with indexOf (native and fast), and only the few characters
 * around each are read. These checks never decide alone: when one passes, the pattern still runs.
 */

/** `\s` of a regular expression without the `u` flag. */
export function isRegexSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** `\w` of a regular expression without the `u` flag. */
export function isRegexWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90);
}

/**
 * The maximal run of `\w` characters that ends at `end` (exclusive), after skipping `\s` backwards
 * from `end` when `gap` is set: the callee of `name (`, the object of `name .`. A pattern
 * `\bname\s*\(` can only match at a `(` whose word before is exactly `name`.
 */
export function wordBefore(s: string, end: number, gap: boolean): string {
  let e = end;
  if (gap) while (e > 0 && isRegexSpace(s.charCodeAt(e - 1))) e--;
  let b = e;
  while (b > 0 && isRegexWord(s.charCodeAt(b - 1))) b--;
  return b === e ? '' : s.slice(b, e);
}

/** The maximal run of `\w` characters that starts at `start`, after skipping `\s` when `gap` is set. */
export function wordAfter(s: string, start: number, gap: boolean): string {
  let b = start;
  if (gap) while (b < s.length && isRegexSpace(s.charCodeAt(b))) b++;
  let e = b;
  while (e < s.length && isRegexWord(s.charCodeAt(e))) e++;
  return b === e ? '' : s.slice(b, e);
}

/** A set of words, or a rule over words (`posix_…`). */
export interface Words {
  has(word: string): boolean;
}

/** True when some `ch` in `s` has a word before it (see {@link wordBefore}) in `words`. */
export function wordBeforeIn(s: string, ch: string, gap: boolean, words: Words): boolean {
  for (let p = s.indexOf(ch); p !== -1; p = s.indexOf(ch, p + 1)) {
    if (words.has(wordBefore(s, p, gap))) return true;
  }
  return false;
}

/**
 * Words around the sites of one value: before each `(` (callees) and each `.` (objects), whitespace
 * allowed in between, and right after each `.` (properties, file extensions).
 */
interface Sites {
  readonly calls: readonly string[];
  readonly objects: readonly string[];
  readonly properties: readonly string[];
}

function wordsBefore(s: string, ch: string): string[] {
  const out: string[] = [];
  for (let p = s.indexOf(ch); p !== -1; p = s.indexOf(ch, p + 1)) {
    const w = wordBefore(s, p, true);
    if (w !== '') out.push(w);
  }
  return out;
}

function wordsAfter(s: string, ch: string): string[] {
  const out: string[] = [];
  for (let p = s.indexOf(ch); p !== -1; p = s.indexOf(ch, p + 1)) {
    const w = wordAfter(s, p + 1, false);
    if (w !== '') out.push(w);
  }
  return out;
}

/** Sites of the value inspected last: every detector looks at the same value, so they are found once. */
let sitesValue = '';
let sites: Sites = { calls: [], objects: [], properties: [] };

function sitesOf(s: string): Sites {
  if (s !== sitesValue) {
    sitesValue = s;
    sites = { calls: wordsBefore(s, '('), objects: wordsBefore(s, '.'), properties: wordsAfter(s, '.') };
  }
  return sites;
}

function someIn(list: readonly string[], words: Words): boolean {
  for (const w of list) if (words.has(w)) return true;
  return false;
}

/**
 * True when `s` calls one of `words`: some `(` has one of them before it, whitespace allowed in
 * between. A pattern `\bname\s*\(` or `\.name\s*\(` can only match then.
 */
export function callsIn(s: string, words: Words): boolean {
  return someIn(sitesOf(s).calls, words);
}

/** True when some `.` in `s` has one of `words` before it, whitespace allowed in between (`\bname\s*\.`). */
export function accessesIn(s: string, words: Words): boolean {
  return someIn(sitesOf(s).objects, words);
}

/** True when some `.` in `s` is right before one of `words` (`\.name\b`, a file extension). */
export function propertiesIn(s: string, words: Words): boolean {
  return someIn(sitesOf(s).properties, words);
}

/** True when some `ch` in `s` is followed (after `\s` when `gap` is set) by a word in `words`. */
export function wordAfterIn(s: string, ch: string, gap: boolean, words: ReadonlySet<string>): boolean {
  for (let p = s.indexOf(ch); p !== -1; p = s.indexOf(ch, p + 1)) {
    if (words.has(wordAfter(s, p + 1, gap))) return true;
  }
  return false;
}

/** The first character that is not `\s` (NaN for none): what a pattern anchored by `^\s*` sees first. */
export function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && isRegexSpace(s.charCodeAt(i))) i++;
  return s.charCodeAt(i);
}

/**
 * True when some `ch` in `s` has `text` right before it (after skipping `\s` backwards when `gap`
 * is set), word boundary or not: `s.includes(text + ch)` without searching for `text`'s first
 * letter, which prose is full of.
 */
export function textBefore(s: string, ch: string, gap: boolean, text: string): boolean {
  for (let p = s.indexOf(ch); p !== -1; p = s.indexOf(ch, p + 1)) {
    let e = p;
    if (gap) while (e > 0 && isRegexSpace(s.charCodeAt(e - 1))) e--;
    if (e >= text.length && s.startsWith(text, e - text.length)) return true;
  }
  return false;
}
