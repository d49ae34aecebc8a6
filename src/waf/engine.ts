/**
 * The injection-detection engine: pure and synchronous (no I/O), so it can be unit-tested,
 * benchmarked and run on the request path without allocating much for clean traffic. Each input
 * value is normalised once, handed to every family's detector, and the matches are scored
 * (anomaly scoring): a request whose total reaches the threshold is an attack.
 */
import { codeUnitTest, normalize } from './decode.js';
import { detectCode, detectCrlf, detectLdap, detectNosql, detectNosqlKey, detectXxe } from './other.js';
import { detectPath } from './path.js';
import { RULES, type Family, type Report, type RuleId } from './rules.js';
import { detectShell } from './shell.js';
import { forgetSites } from './sites.js';
import { detectSql } from './sql.js';
import { detectSsrf } from './ssrf.js';
import { detectTemplate } from './template.js';
import { detectXss } from './xss.js';

/** Where a value came from: detectors differ per location (CR/LF is data in a JSON text field, an attack in a header). */
export type InputLocation = 'path' | 'query' | 'header' | 'cookie' | 'body' | 'key';

export interface Input {
  readonly location: InputLocation;
  /** Field name for events and exclusions, e.g. `query.q`, `body.address.street`, `header.user-agent`. */
  readonly field: string;
  readonly value: string;
}

export interface Match {
  readonly rule: RuleId;
  readonly family: Family;
  readonly score: number;
  readonly location: InputLocation;
  readonly field: string;
}

export interface Verdict {
  /** Sum of the scores of distinct (rule, field) matches. */
  readonly score: number;
  readonly attack: boolean;
  readonly matches: readonly Match[];
  /** Inspection stopped because the time budget ran out (the caller decides; stages fail closed). */
  readonly overBudget: boolean;
}

export interface EngineOptions {
  /** 1 (default) runs only rules with near-zero false positives; 2 and 3 add broader ones. */
  readonly paranoia?: 1 | 2 | 3;
  /** Anomaly score at which a request is an attack (default 5: one critical rule). */
  readonly threshold?: number;
  /** Host names (exact, or `.suffix`) that count as internal for SSRF. */
  readonly internalHosts?: readonly string[];
  /** Rules switched off everywhere. */
  readonly disabledRules?: readonly RuleId[];
  /** Per-field exclusions: the listed rules (or every rule when empty) do not apply to these fields. */
  readonly exclusions?: readonly { readonly fields: readonly string[]; readonly rules?: readonly (RuleId | Family)[] }[];
  /** Time budget per request, milliseconds (default 200). */
  readonly budgetMs?: number;
  /** Clock for the budget (tests inject one). */
  readonly now?: () => number;
}

/** Clean values take this path: letters, digits, spaces and light punctuation cannot carry most attacks. */
const PLAIN = /^[\p{L}\p{N}\s.,_@+-]*$/u;
/** …unless they spell SQL statements or Java class names, which need no special characters… */
const PLAIN_SUSPECT_WORD = /\b(?:union|select|insert|update|delete|drop|create|alter|truncate|exec|execute|shutdown|waitfor|declare|replace|rename|grant|java|javax|processbuilder|classloader|runtime)\b/i;
/** …or a numeric parameter carries SQL (`1 and 1 not like 0`, `-1 order by 3`, `case when …`). */
const PLAIN_NUMERIC_SQL = /^\s*[-+]?[\d.]+\s+(?:and|or|xor|div|order|group|having|limit|procedure)\b|^\s*\(?\s*case\s/i;

/** A plain value that still needs every detector. Separate tests: one regex with all of these alternatives is several times slower. */
function plainSuspect(value: string): boolean {
  return value.includes('--') || value.includes('@@') || value.includes('rO0AB') || PLAIN_NUMERIC_SQL.test(value) || PLAIN_SUSPECT_WORD.test(value);
}

/** A character above U+00FF: V8 then holds the string with two bytes per character. */
// eslint-disable-next-line no-control-regex -- the range starts at U+0000: every one-byte character
const WIDE = /[^\x00-\xff]/;
/** Whether a UTF-16 code unit outside surrogates is in PLAIN's class: PLAIN on one character answers it. */
const inPlainClass = codeUnitTest((c) => PLAIN.test(String.fromCharCode(c)));

/**
 * `PLAIN.test(value)`. On a two-byte string (a character above U+00FF: "—", Cyrillic, CJK)
 * irregexp tests `\p{L}` against its whole range list per character (~26 ns), so a 740-character
 * value failing at its end cost ~19 µs; there, each code unit is looked up in a table that PLAIN's
 * own class fills in once per character ({@link inPlainClass}; ~4 µs for the same value; measured). One-byte strings keep
 * the regex (~0.8 µs). A surrogate (astral characters) sends the value to the regex, which reads
 * pairs as code points; without one, code units are code points and the answers are the same.
 */
export function isPlain(value: string): boolean {
  if (!WIDE.test(value)) return PLAIN.test(value);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return PLAIN.test(value);
    if (!inPlainClass(c)) return false;
  }
  return true;
}

/**
 * Characters common in text that PLAIN refuses: found natively, they spare the slower scan of a
 * long value by {@link isPlain}. A short value is scanned by it as fast as these are searched.
 */
function punctuated(value: string): boolean {
  return value.length > PUNCTUATED_MIN && (value.includes("'") || value.includes('"') || value.includes('(') || value.includes(':') || value.includes(';'));
}
const PUNCTUATED_MIN = 32;

/** Rules found in the value under inspection: detection is synchronous, one value at a time, so one set and one reporter serve every call. */
const found = new Set<RuleId>();
const report: Report = (rule) => void found.add(rule);
const NONE: readonly RuleId[] = Object.freeze([]);

/** Slots per memo table: a power of two (the slot is a bit mask of the value's hash). */
const MEMO_SLOTS = 256;
/** Longest header value or key that is memoised. */
const MEMO_VALUE_MAX = 512;
/** Longest other value that is memoised: identifiers, enum values, names, dates repeat; free text rarely does. */
const MEMO_SHORT_MAX = 64;
/**
 * Memo table of each location: detectAll treats body values, keys and the rest (path, query,
 * header, cookie) differently, and treats all of the rest alike.
 */
const MEMO_TABLE: Readonly<Record<InputLocation, number>> = { body: 0, key: 1, path: 2, query: 2, header: 2, cookie: 2 };
/** The budget's clock is read after this many inputs or characters inspected since the last read (see {@link WafEngine.inspect}). */
const CLOCK_INPUTS = 16;
const CLOCK_CHARS = 1024;

/** Touches every detector's code path once (see the constructor). */
const WARM_UP = ["x' or 1=1--", '<a href=javascript:x onclick=y>', '../%c0%ae/etc/passwd', '; cat $(id)', 'http://[::1]/ gopher://x', '${jndi:x}{{7*7}}', '*)(a=*', '{"$ne":1}', '<!DOCTYPE [<!ENTITY', '<?php java.lang.Runtime', 'Zoë’s ＜café＞ &amp; %41'];

/**
 * Runs every detector on one value and returns the rule ids that matched (before paranoia levels,
 * exclusions and scoring).
 *
 * @example
 *   detectAll("' OR 1=1--", 'query', []) // ['sqli-breakout-comment'?, 'sqli-boolean-expression', …]
 */
export function detectAll(value: string, location: InputLocation, internalHosts: readonly string[]): readonly RuleId[] {
  if (value === '' || (!punctuated(value) && isPlain(value) && !plainSuspect(value))) return NONE;
  found.clear();
  forgetSites();
  const decoded = normalize(value);
  const lower = decoded.toLowerCase();
  detectSql(lower, report);
  detectXss(lower, report);
  detectPath(lower, report);
  detectShell(lower, report);
  detectSsrf(lower, internalHosts, report);
  detectTemplate(lower, report);
  detectLdap(lower, report);
  detectNosql(lower, report);
  detectXxe(lower, report);
  detectCode(lower, decoded, report);
  if (location !== 'body') detectCrlf(decoded, report);
  if (location === 'key') detectNosqlKey(lower, report);
  return found.size === 0 ? NONE : [...found];
}

/**
 * A configured engine. Create once (per stage), call {@link WafEngine.inspect} per request.
 *
 * @example
 *   const waf = new WafEngine({ paranoia: 1 });
 *   waf.inspect([{ location: 'query', field: 'query.q', value: "' OR 1=1--" }]).attack // true
 */
export class WafEngine {
  private readonly level: number;
  private readonly threshold: number;
  private readonly internalHosts: readonly string[];
  private readonly disabled: ReadonlySet<string>;
  private readonly exclusions: ReadonlyMap<string, ReadonlySet<string> | 'all'>;
  private readonly budgetMs: number;
  private readonly now: () => number;
  /**
   * Findings for values seen before. Headers repeat from one request to the next (the same client
   * sends the same User-Agent, client hints, Referer), as do the keys of an API's JSON bodies and
   * its short values (ids, enum values, dates), so such a value is inspected once while it keeps
   * coming. Direct-mapped: a header value or key of up to {@link MEMO_VALUE_MAX} characters, or
   * another value of up to {@link MEMO_SHORT_MAX}, has one slot in its location's table (chosen
   * from its length and a few characters) and replaces whatever was there, so a flood of distinct
   * values costs one comparison each, and memory stays at 3 × {@link MEMO_SLOTS} entries.
   */
  private readonly memoValues: string[] = new Array<string>(3 * MEMO_SLOTS).fill('');
  private readonly memoRules: (readonly RuleId[])[] = new Array<readonly RuleId[]>(3 * MEMO_SLOTS).fill([]);

  constructor(options: EngineOptions = {}) {
    this.level = options.paranoia ?? 1;
    this.threshold = options.threshold ?? 5;
    this.internalHosts = (options.internalHosts ?? []).map((h) => h.toLowerCase());
    this.disabled = new Set(options.disabledRules ?? []);
    const ex = new Map<string, Set<string> | 'all'>();
    for (const e of options.exclusions ?? []) {
      for (const f of e.fields) {
        if (e.rules === undefined || e.rules.length === 0) ex.set(f, 'all');
        else {
          const prev = ex.get(f);
          if (prev === 'all') continue;
          ex.set(f, new Set([...(prev ?? []), ...e.rules]));
        }
      }
    }
    this.exclusions = ex;
    this.budgetMs = options.budgetMs ?? 200;
    this.now = options.now ?? (() => performance.now());
    // Compile every pattern and Unicode table now (config load), not in the first requests' time budget.
    for (const v of WARM_UP) detectAll(v, 'query', this.internalHosts);
  }

  /** Rule ids that apply to one value at this paranoia level (used by evaluation and tests). */
  rulesFor(value: string, location: InputLocation, field = ''): RuleId[] {
    return this.detect(value, location).filter((rule) => this.applies(rule, field));
  }

  private detect(value: string, location: InputLocation): readonly RuleId[] {
    const n = value.length;
    if (n === 0 || n > (location === 'header' || location === 'key' ? MEMO_VALUE_MAX : MEMO_SHORT_MAX)) return detectAll(value, location, this.internalHosts);
    const slot = MEMO_TABLE[location] * MEMO_SLOTS + ((n * 31 + value.charCodeAt(n >> 1) * 7 + value.charCodeAt(n - 1)) & (MEMO_SLOTS - 1));
    if (this.memoValues[slot] === value) return this.memoRules[slot]!;
    const rules = detectAll(value, location, this.internalHosts);
    this.memoValues[slot] = value;
    this.memoRules[slot] = rules;
    return rules;
  }

  private applies(rule: RuleId, field: string): boolean {
    const info = RULES[rule];
    if (info.level > this.level || this.disabled.has(rule)) return false;
    const ex = this.exclusions.size === 0 ? undefined : this.exclusions.get(field);
    return ex === undefined || (ex !== 'all' && !ex.has(rule) && !ex.has(info.family));
  }

  /**
   * Inspects every input of one request; stops early once the request is an attack or the budget is
   * spent. The clock is read after every {@link CLOCK_INPUTS} inputs or {@link CLOCK_CHARS}
   * characters, whichever comes first, and once at the end: a read costs ~65 ns, as much as
   * inspecting a short plain value, and most requests are a handful of short values.
   */
  inspect(inputs: Iterable<Input>): Verdict {
    const start = this.now();
    const matches: Match[] = [];
    let score = 0;
    let sinceClock = 0;
    let charsSinceClock = 0;
    let overBudget = false;
    const excluding = this.exclusions.size > 0;
    for (const input of inputs) {
      if (excluding && this.exclusions.get(input.field) === 'all') continue;
      for (const rule of this.detect(input.value, input.location)) {
        if (!this.applies(rule, input.field)) continue;
        const info = RULES[rule];
        matches.push({ rule, family: info.family, score: info.score, location: input.location, field: input.field });
        score += info.score;
      }
      if (score >= this.threshold) break;
      charsSinceClock += input.value.length;
      if (++sinceClock < CLOCK_INPUTS && charsSinceClock < CLOCK_CHARS) continue;
      sinceClock = charsSinceClock = 0;
      if (this.now() - start > this.budgetMs) {
        overBudget = true;
        break;
      }
    }
    if (!overBudget && score < this.threshold && sinceClock > 0) overBudget = this.now() - start > this.budgetMs;
    return { score, attack: score >= this.threshold, matches, overBudget };
  }
}
