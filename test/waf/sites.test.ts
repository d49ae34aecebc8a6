/**
 * The character classes and word sets that the detectors' site checks read in place of regular
 * expressions must agree with what they stand for, on every character.
 */
import { describe, expect, it } from 'vitest';
import { isRegexSpace, isRegexWord, wordBeforeIn, WordSet } from '../../src/waf/sites.js';

describe('site checks', () => {
  it('isRegexSpace and isRegexWord are \\s and \\w of a regular expression without the u flag, on every UTF-16 unit', () => {
    const differ: number[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      if (isRegexSpace(c) !== /\s/.test(ch) || isRegexWord(c) !== /\w/.test(ch)) differ.push(c);
    }
    expect(differ).toEqual([]);
    expect(isRegexSpace(Number.NaN)).toBe(false);
  });

  it('a WordSet finds at a site exactly the words a Set would', () => {
    const words = ['powershell', 'exe', 'pwsh', 'new', 'net1', 'a_b'];
    // The reference: a plain Set, asked for every word copied out of the text.
    const plain = new Set(words);
    const set = { hasAt: (s: string, b: number, e: number): boolean => plain.has(s.slice(b, e)) };
    const shaped = new WordSet(words);
    const texts = ['powershell -c', 'x.exe -', 'pwsh-', 'renew -', 'new-object', 'net1 -', 'a_b -', 'A_B -', 'News - today', ' - ', '-', 'exes -', 'ex -', 'powershelll -'];
    for (const text of texts) expect([text, wordBeforeIn(text, '-', true, shaped)]).toEqual([text, wordBeforeIn(text, '-', true, set)]);
    expect(() => new WordSet(['-x'])).toThrow();
    expect(() => new WordSet(['X'])).toThrow();
  });
});
