/**
 * SQL injection detection by tokenising the input the way a SQL parser would, in each context the
 * value could be pasted into (a bare number, a '…' literal, a "…" literal), and looking for
 * structure that only code has: a literal broken out of and followed by a boolean expression or a
 * comment, a UNION SELECT, a stacked statement, calls to database functions in expressions.
 * English prose that merely contains SQL words ("select the best option from the menu") has none
 * of that structure.
 */
import { Buffer } from 'node:buffer';
import type { Report } from './rules.js';
import { WordSet } from './sites.js';

// Token kinds, one byte per token in the token buffer (NONE: no token, i.e. past either end of the stream).
const NONE = 0;
const STR = 1;
const NUM = 2;
const WORD = 3;
const KW = 4;
const FN = 5;
const OP = 6;
const CMP = 7;
const LOGIC = 8;
const LP = 9;
const RP = 10;
const COMMA = 11;
const SEMI = 12;
const CMT = 13;
const VAR = 14;

const KEYWORDS = [
  'select', 'union', 'insert', 'update', 'delete', 'drop', 'create', 'alter', 'truncate', 'from', 'where',
  'not', 'null', 'having', 'group', 'order', 'by', 'limit', 'offset', 'into', 'values', 'set', 'exec',
  'execute', 'declare', 'case', 'when', 'then', 'else', 'end', 'as', 'join', 'on', 'all', 'distinct', 'table',
  'database', 'procedure', 'waitfor', 'delay', 'shutdown', 'grant', 'true', 'false', 'top', 'outfile',
  'dumpfile', 'analyse', 'begin', 'rename', 'load', 'replace', 'handler', 'asc', 'desc', 'binary', 'collate', 'notnull',
] as const;
const LOGIC_WORDS = ['and', 'or', 'xor', 'div', '&&', '||'] as const;
const WORD_CMP = ['like', 'rlike', 'regexp', 'is', 'in', 'between', 'sounds', 'glob', 'similar'] as const;
const SYMBOL_CMP = ['=', '<', '>', '<=', '>=', '<>', '!=', '<=>', '!<', '!>', ':='] as const;
/** Functions that SQL calls without parentheses. */
const NILADIC = ['current_user', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'utc_date', 'utc_time', 'utc_timestamp', 'session_user', 'system_user', 'sysdate'] as const;
const UNARY_SYMBOLS = ['-', '+', '!', '~'] as const;
const BINARY_SYMBOLS = ['+', '-', '*', '/', '%', '^', '&', '|', '<<', '>>'] as const;
/** Operators of two characters that are no comparison or boolean (`<=>` is read on its own). */
const OTHER_PAIRS = ['<<', '>>', '::'] as const;
/** Words the grammar looks for that are no reserved words (so a name spelling one stays a plain name). */
const OTHER_WORDS = ['if', 'mod', 'exists', 'data', 'xml', 'infile', 'low_priority', 'quick', 'ignore', 'view', 'function', 'user', 'index', 'schema', 'trigger', 'login', 'with', 'time', 'to'] as const;

/** A text the grammar compares tokens with: a reserved word, an operator, or one of {@link OTHER_WORDS}. */
type Name = (typeof KEYWORDS | typeof LOGIC_WORDS | typeof WORD_CMP | typeof SYMBOL_CMP | typeof NILADIC | typeof BINARY_SYMBOLS | typeof UNARY_SYMBOLS | typeof OTHER_PAIRS | typeof OTHER_WORDS)[number];

/**
 * Every {@link Name}, by id (1–255; 0: none, `''`). Each token carries the id of the name its text
 * spells, if any: the grammar compares these constant strings (only ever the same or different
 * internalised strings, which V8 compares by address), and the text of other tokens in place, so
 * no token needs a string of its own.
 */
const NAMES: readonly (Name | '')[] = ['', ...new Set<Name>([...NILADIC, ...KEYWORDS, ...WORD_CMP, ...LOGIC_WORDS, ...SYMBOL_CMP, ...UNARY_SYMBOLS, ...BINARY_SYMBOLS, ...OTHER_PAIRS, ...OTHER_WORDS])];
const NAME_IDS = new Map<string, number>(NAMES.map((w, id) => [w, id]));
/** Kind of each reserved word, and of each operator the tokeniser looks up (one or two characters), by id; NONE for the others. */
const NAME_KINDS = new Uint8Array(NAMES.length);
for (const [words, k] of [[NILADIC, FN], [KEYWORDS, KW], [WORD_CMP, CMP], [LOGIC_WORDS, LOGIC], [SYMBOL_CMP, CMP], [OTHER_PAIRS, OP]] as const) {
  for (const w of words) NAME_KINDS[NAME_IDS.get(w)!] = k;
}
const NULL_ID = NAME_IDS.get('null')!;
const SPACESHIP_ID = NAME_IDS.get('<=>')!;
const EQUALS_ID = NAME_IDS.get('=')!;
/**
 * Names by first and last letter a–z, so that a word is compared in place with the few of its
 * shape: slicing every word of prose and looking the slice up costs more than tokenising it.
 */
const NAMES_BY_ENDS: number[][] = Array.from({ length: 26 * 26 }, () => []);
/** Bit `length` is set when a name of that length has those ends: most words of prose are let go on this alone. */
const NAME_LENGTHS = new Uint32Array(26 * 26);
/** The other names (operators), by first character. */
const NAMES_ODD = new Map<number, number[]>();
for (let id = 1; id < NAMES.length; id++) {
  const w = NAMES[id]!;
  const a = w.charCodeAt(0) - 97;
  const z = w.charCodeAt(w.length - 1) - 97;
  if (a >= 0 && a <= 25 && z >= 0 && z <= 25 && w.length < 32) {
    NAMES_BY_ENDS[a * 26 + z]!.push(id);
    NAME_LENGTHS[a * 26 + z]! |= 1 << w.length;
  } else NAMES_ODD.set(w.charCodeAt(0), [...(NAMES_ODD.get(w.charCodeAt(0)) ?? []), id]);
}

/** Id of the {@link Name} that the value spells from `start` to `end` (in {@link chars}), or 0. */
function nameId(start: number, end: number): number {
  const length = end - start;
  if (length === 0) return 0;
  const a = chars[start]! - 97;
  const z = chars[end - 1]! - 97;
  let candidates: readonly number[] | undefined;
  if (a >= 0 && a <= 25 && z >= 0 && z <= 25) {
    if (length > 31 || ((NAME_LENGTHS[a * 26 + z]! >>> length) & 1) === 0) return 0;
    candidates = NAMES_BY_ENDS[a * 26 + z]!;
  } else candidates = NAMES_ODD.get(chars[start]!);
  if (candidates === undefined) return 0;
  for (let c = 0; c < candidates.length; c++) {
    const w = NAMES[candidates[c]!]!;
    if (w.length !== length) continue;
    let k = 1;
    while (k < length && w.charCodeAt(k) === chars[start + k]) k++;
    if (k === length) return candidates[c]!;
  }
  return 0;
}

/** Database functions that attackers call to probe, extract or delay; rare in prose as `name(`. */
const RISKY_FUNCTIONS = new Set([
  'sleep', 'benchmark', 'pg_sleep', 'load_file', 'extractvalue', 'updatexml', 'xp_cmdshell', 'sp_executesql',
  'char', 'chr', 'nchar', 'concat', 'concat_ws', 'group_concat', 'ascii', 'ord', 'substring', 'substr', 'mid',
  'hex', 'unhex', 'version', 'database', 'user', 'current_user', 'system_user', 'session_user', 'schema',
  'count', 'if', 'ifnull', 'isnull', 'nullif', 'coalesce', 'cast', 'convert', 'length', 'len', 'rand', 'floor',
  'exp', 'make_set', 'elt', 'row_count', 'randomblob', 'sqlite_version', 'md5', 'sha1', 'left', 'right',
  'instr', 'locate', 'position', 'lower', 'upper', 'trim', 'reverse', 'name_const', 'json_keys', 'polygon',
  'geometrycollection', 'multipoint', 'linestring', 'dbms_pipe.receive_message', 'utl_inaddr.get_host_name',
  'utl_http.request', 'dbms_lock.sleep', 'ctxsys.drithsx.sn', 'bin', 'oct', 'conv', 'greatest', 'least',
  'strcmp', 'soundex', 'sys_eval', 'sys_exec', 'openrowset', 'opendatasource', 'db_name', 'host_name',
  'suser_name', 'is_srvrolemember', 'pg_read_file', 'lo_import', 'current_database', 'iif', 'char_length',
  'field', 'find_in_set', 'benchmark', 'get_lock', 'generate_series', 'unicode', 'waitfor', 'exists', 'any',
  'charset', 'collation', 'coercibility', 'connection_id', 'last_insert_id', 'found_rows', 'compress',
  'uncompress', 'lpad', 'rpad', 'export_set',
]);
const TIME_FUNCTIONS = new Set(['sleep', 'benchmark', 'pg_sleep', 'dbms_lock.sleep', 'dbms_pipe.receive_message', 'get_lock']);
const UNARY_OPS: ReadonlySet<Name | ''> = new Set<Name>(UNARY_SYMBOLS);
const BINARY_OPS: ReadonlySet<Name | ''> = new Set<Name>(BINARY_SYMBOLS);
/** Operators that chain an operand's arithmetic (`1+1`, `2-1`). */
const CHAIN_OPS: ReadonlySet<Name | ''> = new Set<Name>(['+', '-', '*', '/', '%', '^', '|', '&']);
/** Operators before a database function after a breakout (`'+sleep(5)+'`). */
const CALL_OPS: ReadonlySet<Name | ''> = new Set<Name>(['+', '|', '-', '*', '/']);
const SYMBOL_CMP_OPS: ReadonlySet<Name | ''> = new Set<Name>(SYMBOL_CMP);
/** Objects of DROP, CREATE, ALTER, TRUNCATE, RENAME. */
const OBJECTS: ReadonlySet<Name | ''> = new Set<Name>(['table', 'database', 'view', 'procedure', 'function', 'user', 'index', 'schema', 'trigger', 'login']);
/** Clauses after `select x from t`. */
const CLAUSES: ReadonlySet<Name | ''> = new Set<Name>(['where', 'limit', 'order', 'group']);
/** Catalogue objects only an attacker enumerating the schema names. */
const CATALOG = /\b(?:information_schema|mysql\.user|sysobjects|syscolumns|sys\.tables|sys\.objects|pg_catalog|pg_shadow|sqlite_master|all_tables|user_tables|msysobjects|master\.\.sysdatabases|pg_user)\b/;

const MAX_TOKENS = 400;
const QUOTE_LIKE = /[\u2018\u2019\u00b4\u02bc]/;
const QUOTE_LIKE_ALL = new RegExp(QUOTE_LIKE.source, 'g');
/** Up to this many quote characters are each tried as the point where the input leaves a literal. */
const BREAKOUT_TRIES = 2;
/** Streams read per value: the tries of each quote character, the `)` context and the whole value. */
const STREAMS = 3 * BREAKOUT_TRIES + 2;

/**
 * The grammar looks a few tokens past either end of a stream: each look-ahead is a small constant
 * offset from a token of the stream or from its end (`t[i + 3]` of the last token; `t[i - 2]` only
 * after a `(` at i - 1), and its loops stop at the end (1 past the end and 1 before the start at
 * most on wafdiff's 590,796 checks). This many slots of NONE on each side of a stream stand for
 * "no token", so that reading a token needs no bounds check: the accessors stay small enough for
 * V8 to inline them everywhere (with bounds checks in them, attack strings took 10-15% longer).
 */
const GUARD = 8;
/**
 * The tokens of every stream of the value being read, stream `x` from slot {@link firstSlot}(x) on
 * (one more region for {@link valueHeadMayReport}'s first tokens), reused across calls: detection
 * is synchronous, one value at a time. A token is its kind, the id of the {@link Name} its text
 * spells, its text (`start`–`end` in the value; the inside of a literal), its flags and, for a
 * literal the input leaves open, its quote character. Objects and strings per token cost ~45 ns
 * and ~60 bytes each on prose, which after an apostrophe is read to the end of the value as a breakout.
 */
const STRIDE = GUARD + MAX_TOKENS + GUARD;
const SLOTS = (STREAMS + 1) * STRIDE;
const KINDS = new Uint8Array(SLOTS);
const IDS = new Uint8Array(SLOTS);
const STARTS = new Int32Array(SLOTS);
const ENDS = new Int32Array(SLOTS);
const FLAGS = new Uint8Array(SLOTS);
/** A string literal that the input leaves open (the application's own closing quote ends it): its quote character; 0 otherwise. */
const OPEN = new Uint8Array(SLOTS);
/** Flag: a name written without quotes that is no reserved word: no rule looks at one by itself. */
const PLAIN = 1;
/** Flag: for comments, nothing but whitespace follows the comment marker. */
const BARE = 2;
/** Flags: for calls, the function is one of {@link RISKY_FUNCTIONS}, of {@link TIME_FUNCTIONS}. */
const RISKY = 4;
const TIMED = 8;
/** First slot of stream `x`'s region. */
function firstSlot(x: number): number {
  return x * STRIDE + GUARD;
}
/** Where each stream starts in the value, and how many tokens it has. */
const STREAM_FROM = new Int32Array(STREAMS);
const STREAM_COUNT = new Int32Array(STREAMS);
/** The order streams are read in (see detectSql). */
const STREAM_ORDER = new Int32Array(STREAMS);
/** For each quote tried (streams 0, 1, …), its closer (see scan). */
const TRY_CLOSER = new Int32Array(3 * BREAKOUT_TRIES);

function isWordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 64 /* @ */ || c === 36 /* $ */ || c > 127;
}
function isWordChar(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57) || c === 46 /* . */;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || isDigit(c) || c > 127;
}
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

/** Index of the newline ending the line comment at `i` when more than whitespace follows it, else -1 (`n`: the value's length). */
function lineEnd(n: number, i: number): number {
  let nl = i;
  while (nl < n && chars[nl] !== 10 && chars[nl] !== 13) nl++;
  // Only when SQL follows on a later line: a comment that ends the input keeps ending the query.
  for (let j = nl + 1; j < n; j++) if (!isSpace(chars[j]!)) return nl;
  return -1;
}

/**
 * Where the literal opened by quote `q` before `from` closes, or -1: doubled quotes and backslashes
 * escape. Found with indexOf: prose after an apostrophe is often one long unclosed literal.
 * `backslash`: the first backslash at or after `from`, or -1.
 */
function closingQuote(s: string, from: number, q: number, backslash: number): number {
  const quote = String.fromCharCode(q);
  let j = from;
  for (;;) {
    const at = s.indexOf(quote, j);
    if (backslash !== -1 && backslash < j) backslash = s.indexOf('\\', j);
    if (backslash !== -1 && (at === -1 || backslash < at)) {
      j = backslash + 2; // the escaped character, whatever it is, is part of the literal
      continue;
    }
    if (at === -1) return -1;
    if (s.charCodeAt(at + 1) !== q) return at;
    j = at + 2;
  }
}

/**
 * The names of {@link RISKY_FUNCTIONS} (which holds every {@link TIME_FUNCTIONS} name), looked up in
 * place by their shape (sites.ts): a name of prose before `(` ("avenue (open") is let go without a
 * slice and a set lookup (PET_NOTES has 2 such names, each looked up by the tokeniser and by
 * scanTextMayReport).
 */
const RISKY_NAMES = new WordSet([...RISKY_FUNCTIONS]);
for (const w of TIME_FUNCTIONS) if (!RISKY_FUNCTIONS.has(w)) throw new Error(`time function ${w} is no risky function`);

/** Index of the first backslash in the value of the current detectSql call; -1: none; -2: not searched for yet in this call. */
let firstBackslash = -2;

/**
 * Index of the first backslash at or after `from` in `s` (the value of the current detectSql call), or -1.
 * The value is searched once, not once per stream with a literal: most have no backslash (PET_NOTES:
 * one search of ~350 characters saved).
 */
function backslashFrom(s: string, from: number): number {
  if (firstBackslash === -2) firstBackslash = s.indexOf('\\');
  return firstBackslash === -1 || firstBackslash >= from ? firstBackslash : s.indexOf('\\', from);
}

/** Flags of a call of the name from `start` to `end` of `s`. */
function callFlags(s: string, start: number, end: number): number {
  if (!RISKY_NAMES.hasAt(s, start, end)) return 0;
  return RISKY | (TIME_FUNCTIONS.has(s.slice(start, end)) ? TIMED : 0);
}

/**
 * The characters (UTF-16 code units) of the value being tokenised, then zeros. Read with
 * charCodeAt, a character costs ~4 ns on a two-byte string (each read checks the string's
 * representation); from a typed array filled by one native copy (~0.1 µs for PET_NOTES), well
 * under 1 ns. Past the end, 0 reads as charCodeAt's NaN does: it is no character any test of the
 * tokeniser looks for (it reads at most 2 past the end).
 */
let chars = new Uint16Array(0);
/** The array kept across calls, for values of up to 16K characters; a longer one gets an array of its own (held until the next call). */
const KEPT_CHARS = new Uint16Array((1 << 14) + 4);
const KEPT_BYTES = Buffer.from(KEPT_CHARS.buffer, KEPT_CHARS.byteOffset, KEPT_CHARS.byteLength);

/** Copies `s` into {@link chars}. */
function loadChars(s: string): void {
  const size = s.length + 4;
  chars = size <= KEPT_CHARS.length ? KEPT_CHARS : new Uint16Array(size);
  const bytes = chars === KEPT_CHARS ? KEPT_BYTES : Buffer.from(chars.buffer, chars.byteOffset, chars.byteLength);
  bytes.write(s, 0, 'utf16le');
  chars.fill(0, s.length, size);
}

/** Writes a token at `slot` of the buffer. */
function put(slot: number, k: number, id: number, start: number, end: number, flags = 0, open = 0): void {
  KINDS[slot] = k;
  IDS[slot] = id;
  STARTS[slot] = start;
  ENDS[slot] = end;
  FLAGS[slot] = flags;
  OPEN[slot] = open;
}

/**
 * Where the last {@link tokenize} stopped on reaching its limit with characters left: calling it
 * again from there with the tokens read so far goes on as if it had not stopped (it keeps no state
 * but its position). -1 when it read to the end of the value or took the rest from another stream.
 */
let tokenStop = -1;

/**
 * Tokenises `s` from `start` (lower-cased input) into SQL tokens, in the buffer region of stream
 * `stream`; returns how many. Linear, bounded by MAX_TOKENS. `limit` tokens at most: fewer than
 * MAX_TOKENS give the first tokens of the stream. `read`: bit x set when stream x of `s` is
 * already tokenised. The tokeniser keeps no state but its position (what it reads from `i` on
 * depends on `s` and `i` alone), so when it stands where one of them started, the tokens from
 * there on are that stream's and are taken from it (see {@link takeRest}) instead of read again,
 * all of them whatever `limit` is. `count`: tokens the region already holds, read up to `start`
 * (see {@link tokenStop}).
 */
function tokenize(s: string, start: number, limit: number, stream: number, read: number, count: number): number {
  const first = firstSlot(stream);
  let i = start;
  const n = s.length;
  const cs = chars; // a local: the loops below read it without reloading the module's binding
  // The first backslash at or after the literal being read (-1: none left), searched for once rather
  // than to the end of the value for every literal; -2 until the first literal.
  let backslash = -2;
  tokenStop = -1;
  while (i < n) {
    if (count === limit) {
      tokenStop = i;
      break;
    }
    const c = cs[i]!;
    const slot = first + count;
    // Names first: most tokens are (no other token starts with these characters; U+00A0 is a space).
    if (isWordStart(c) && c !== 160) {
      let j = i + 1;
      // `@` only leads a name (`@v`, `@@version`): `or@1` is `or @1`.
      if (c === 64) while (cs[j]! === 64) j++;
      while (cs[j]! >= 97 && cs[j]! <= 122) j++; // the common case first: a–z
      while (j < n && isWordChar(cs[j]!) && cs[j]! !== 64) j++;
      const end = cs[j - 1]! === 46 ? j - 1 : j;
      // The spaces after the name make no token: skip them now, and see what follows.
      let p = j;
      while (p < n && isSpace(cs[p]!)) p++;
      if (c === 64) put(slot, end - i > 1 && cs[end - 1]! !== 64 ? VAR : OP, 0, i, end);
      else {
        const id = nameId(i, end);
        // A name before `(` is a call, unless a full stop ends it ("…in tests. (Vincent)").
        const k = NAME_KINDS[id]! !== NONE ? NAME_KINDS[id]! : cs[p]! === 40 && cs[j - 1]! !== 46 ? FN : WORD;
        put(slot, k, id, i, end, k === WORD ? PLAIN : k === FN ? callFlags(s, i, end) : 0);
      }
      count++;
      i = p;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    // Comments: `-- `, `#`, `/* */`. MySQL executes `/*! … */` (versioned comments): read inside.
    if ((c === 45 && cs[i + 1]! === 45) || c === 35) {
      // A line comment ends at the newline: what follows is SQL again (`1#x\nunion select…`).
      const eol = lineEnd(n, i);
      if (eol !== -1) {
        i = eol;
        continue;
      }
      const marker = c === 35 ? 1 : 2;
      // `bare`: the comment only ends the query (`--`, `-- -`, `#`), it does not start prose ("-- very strange").
      put(slot, CMT, 0, i, i + marker, s.slice(i + marker).trim().length <= 3 ? BARE : 0);
      count++;
      break;
    }
    if (c === 47 && cs[i + 1]! === 42) {
      if (cs[i + 2]! === 33 /* ! */) {
        i += 3;
        while (isDigit(cs[i]!)) i++;
        continue;
      }
      // A closed inline comment is whitespace to SQL (`UNION/**/SELECT`); an unclosed one ends the query.
      const end = s.indexOf('*/', i + 2);
      if (end === -1) {
        put(slot, CMT, 0, i, i + 2, BARE);
        count++;
        break;
      }
      i = end + 2;
      continue;
    }
    if (c === 42 && cs[i + 1]! === 47) {
      i += 2; // the end of a versioned comment
      continue;
    }
    if (c === 39 || c === 34 || c === 96) {
      if (backslash !== -1 && backslash < i + 1) backslash = backslashFrom(s, i + 1);
      const close = closingQuote(s, i + 1, c, backslash);
      const end = close === -1 ? n : close;
      put(slot, c === 96 ? WORD : STR, nameId(i + 1, end), i + 1, end, 0, close === -1 ? c : 0);
      count++;
      if (close === -1) break;
      i = close + 1;
      const taken = takeRest(first + count, i, MAX_TOKENS - count, read);
      if (taken !== -1) {
        count += taken;
        break;
      }
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(cs[i + 1]!))) {
      let j = i + 1;
      if (c === 48 && (cs[j]! | 32) === 120) {
        j++;
        while (j < n && (isDigit(cs[j]!) || (cs[j]! >= 97 && cs[j]! <= 102))) j++;
      } else {
        while (j < n && (isDigit(cs[j]!) || cs[j]! === 46 || cs[j]! === 101)) j++;
      }
      // `1union`, `1e0union` are still a number followed by a keyword for MySQL.
      put(slot, NUM, 0, i, j);
      count++;
      i = j;
      continue;
    }
    if (c === 92 && cs[i + 1]! === 110 && !isWordChar(cs[i + 2]!)) {
      put(slot, KW, NULL_ID, i, i + 2); // MySQL's `\N`
      count++;
      i += 2;
      continue;
    }
    if (c === 41) {
      put(slot, RP, 0, i, i + 1);
      count++;
      i++;
      const taken = takeRest(first + count, i, MAX_TOKENS - count, read);
      if (taken !== -1) {
        count += taken;
        break;
      }
      continue;
    }
    if (c === 40) put(slot, LP, 0, i, i + 1);
    else if (c === 44) put(slot, COMMA, 0, i, i + 1);
    else if (c === 59) put(slot, SEMI, 0, i, i + 1);
    else {
      if (c === 60 && cs[i + 1]! === 61 && cs[i + 2]! === 62) {
        put(slot, CMP, SPACESHIP_ID, i, i + 3);
        count++;
        i += 3;
        continue;
      }
      // Operators of two characters, then of one: each the kind its name has (OP when none).
      const pair = i + 1 < n ? nameId(i, i + 2) : 0;
      if (NAME_KINDS[pair]! !== NONE) {
        put(slot, NAME_KINDS[pair]!, pair, i, i + 2);
        count++;
        i += 2;
        continue;
      }
      const one = nameId(i, i + 1);
      put(slot, NAME_KINDS[one]! === CMP ? CMP : OP, one, i, i + 1);
    }
    count++;
    i++;
  }
  // No token after the last: what a longer stream left in the region's slots is not this one's.
  for (let slot = first + count; slot < first + count + GUARD; slot++) put(slot, NONE, 0, 0, 0);
  return count;
}

/**
 * Copies to `slot` on (up to `room` tokens) the stream of `read` that starts at `i`, if any: how
 * many tokens, or -1 when none does. Looked for only after a closed literal or a `)`, where streams
 * started at different points meet (the tries of `"a" or "b"`, the whole value after its literal
 * and a try after that literal's closing quote, the whole value and the `)` context); elsewhere it
 * would cost every token a check. A stream cut at MAX_TOKENS still holds every token there is room for.
 */
function takeRest(slot: number, i: number, room: number, read: number): number {
  for (let x = 0; x < STREAMS; x++) {
    if (((read >>> x) & 1) === 0 || STREAM_FROM[x] !== i) continue;
    const from = firstSlot(x);
    const m = Math.min(STREAM_COUNT[x]!, room);
    // A loop, not copyWithin per buffer: streams meet near their ends, with few tokens left to copy.
    for (let k = 0; k < m; k++) {
      KINDS[slot + k] = KINDS[from + k]!;
      IDS[slot + k] = IDS[from + k]!;
      STARTS[slot + k] = STARTS[from + k]!;
      ENDS[slot + k] = ENDS[from + k]!;
      FLAGS[slot + k] = FLAGS[from + k]!;
      OPEN[slot + k] = OPEN[from + k]!;
    }
    return m;
  }
  return -1;
}

// The stream the grammar reads: its value, first slot and length. Token `i` of it is slot `base + i`;
// the functions below read it by index, and give NONE / '' past either end.
let text = '';
let base = 0;
let len = 0;

/** Makes stream `stream` (`count` tokens of `value`) the one the grammar reads. */
function readStream(value: string, stream: number, count: number): void {
  text = value;
  base = firstSlot(stream);
  len = count;
}
function kind(i: number): number {
  return KINDS[base + i]!;
}
/** The {@link Name} token `i` spells (a literal or quoted name too: `'select'`), or `''`. */
function val(i: number): Name | '' {
  return NAMES[IDS[base + i]!]!;
}
function isPlain(i: number): boolean {
  return (FLAGS[base + i]! & PLAIN) !== 0;
}
function isBare(i: number): boolean {
  return (FLAGS[base + i]! & BARE) !== 0;
}
function openQuote(i: number): number {
  return OPEN[base + i]!;
}
function textOf(i: number): string {
  return text.slice(STARTS[base + i], ENDS[base + i]);
}
/** Tokens `a` and `b` have the same text (MySQL's `\N` is `null`). */
function sameText(a: number, b: number): boolean {
  if (kind(a) === NONE || kind(b) === NONE) return false;
  if (val(a) !== '' || val(b) !== '') return val(a) === val(b);
  const start = STARTS[base + a]!;
  const length = ENDS[base + a]! - start;
  return ENDS[base + b]! - STARTS[base + b]! === length && text.startsWith(text.slice(start, start + length), STARTS[base + b]);
}
/** Token `i`'s text starts with one of `prefixes`. */
function textStarts(i: number, prefixes: readonly string[]): boolean {
  if (kind(i) === NONE) return false;
  const start = STARTS[base + i]!;
  const length = ENDS[base + i]! - start;
  return prefixes.some((p) => p.length <= length && text.startsWith(p, start));
}
/** Token `i` calls a function with flag `flag` (RISKY, TIMED). */
function calls(i: number, flag: number): boolean {
  return kind(i) === FN && (FLAGS[base + i]! & flag) !== 0;
}

function isLiteral(i: number): boolean {
  const k = kind(i);
  const v = val(i);
  return k === NUM || k === STR || v === 'null' || v === 'true' || v === 'false';
}
function isOperand(i: number): boolean {
  const k = kind(i);
  return isLiteral(i) || k === WORD || k === VAR || k === FN;
}

/** Index after a balanced `( … )` that starts at `i` (or `i` itself when no paren). */
function skipParens(i: number): number {
  if (kind(i) !== LP) return i;
  let depth = 0;
  for (let j = i; j < len; j++) {
    if (kind(j) === LP) depth++;
    else if (kind(j) === RP && --depth === 0) return j + 1;
  }
  return len;
}

/** Index after the prefix operators at `i`: `-1`, `!x`, `~0`, `not x`, `binary 'a'`. */
function unaryEnd(i: number): number {
  let j = i;
  while (kind(j) !== NONE && ((kind(j) === OP && UNARY_OPS.has(val(j))) || val(j) === 'not' || val(j) === 'binary')) j++;
  return j;
}

/** Reads one operand at `i` (unary minus, function call with arguments, parenthesised sub-select): returns the index after it or -1. */
function operandEnd(i: number): number {
  const j = unaryEnd(i);
  const k = kind(j);
  if (k === NONE) return -1;
  if (k === FN) return skipParens(j + 1);
  if (k === LP) {
    const inner = operandAt(j + 1);
    return val(inner) === 'select' || isOperand(inner) || kind(inner) === LP ? skipParens(j) : -1;
  }
  if (val(j) === 'select') return j + 1;
  if (isOperand(j)) {
    // `a.b`, arithmetic chains: `1+1`, `2-1`.
    let e = j + 1;
    while (kind(e) === OP && CHAIN_OPS.has(val(e)) && isOperand(e + 1)) e += 2;
    return e;
  }
  return -1;
}

/** Index after a binary operator at `i` (`=`, `+`, `<<`, `or`, `is not`, `not like`, `sounds like`, `mod`), or -1. */
function binopEnd(i: number): number {
  const k = kind(i);
  if (k === NONE) return -1;
  if (k === LOGIC) return i + 1;
  if (k === OP) return BINARY_OPS.has(val(i)) ? i + 1 : -1;
  if (k === CMP) return (val(i) === 'is' && val(i + 1) === 'not') || (val(i) === 'sounds' && val(i + 1) === 'like') ? i + 2 : i + 1;
  if (val(i) === 'not' && kind(i + 1) === CMP) return i + 2;
  return val(i) === 'mod' ? i + 1 : -1;
}

/** Index after one primary (prefix operators, then a literal, name, call or parenthesised group), or -1. */
function primaryEnd(i: number): number {
  const j = unaryEnd(i);
  const k = kind(j);
  if (k === NONE) return -1;
  let e = k === FN ? skipParens(j + 1) : k === LP ? skipParens(j) : isOperand(j) ? j + 1 : -1;
  // PostgreSQL casts: `lo_get(1)::text::bool`.
  while (e !== -1 && val(e) === '::' && (kind(e + 1) === WORD || kind(e + 1) === KW)) e += 2;
  return e;
}

/** Index after an expression `primary (binop primary)*` that starts at `i`, or -1. Linear: each step consumes tokens. */
function expressionEnd(i: number): number {
  let e = primaryEnd(i);
  if (e === -1) return -1;
  for (;;) {
    const b = binopEnd(e);
    const next = b === -1 ? -1 : primaryEnd(b);
    if (next === -1) return e;
    e = next;
  }
}

/** Index of the operand token itself, past prefix operators (a parenthesis stands for its group). */
function operandAt(i: number): number {
  return unaryEnd(i);
}

/**
 * `operand cmp operand` at `i` (through up to three opening parentheses: `and ((1=1))`) where code
 * rather than prose is compared: a literal, a call, a variable, a sub-select, or a name with itself.
 */
function comparisonAt(i: number): boolean {
  for (let j = i, depth = 0; depth < 4; depth++, j++) {
    const a = operandEnd(j);
    if (a !== -1) {
      let c = a;
      if (val(c) === 'not') c++;
      // `in` takes a parenthesised list (`x in (1,2)`); "fixes and improvements in tests" is prose.
      const b = kind(c) === CMP && (val(c) !== 'in' || kind(c + 1) === LP) ? binopEnd(c) : -1;
      if (b !== -1 && operandEnd(b) !== -1) {
        const lhs = operandAt(j);
        const rhs = operandAt(b);
        const l = kind(lhs);
        const r = kind(rhs);
        if (isLiteral(lhs) || isLiteral(rhs) || l === FN || r === FN || l === LP || r === LP || l === VAR || r === VAR || (l === WORD && sameText(lhs, rhs))) return true;
      }
    }
    if (kind(j) !== LP) return false;
  }
  return false;
}

/** Some token from `from` to before `to` (clipped to the stream) is `name`. */
function nameIn(from: number, to: number, name: Name, other: Name = name): boolean {
  for (let k = from; k < to && k < len; k++) if (val(k) === name || val(k) === other) return true;
  return false;
}

/** Statement that can follow `;` or start a value: verb plus the grammar that must follow it. */
function statementAt(i: number): boolean {
  // Every verb below is a reserved word, except `if`.
  if (kind(i) === NONE || (isPlain(i) && val(i) !== 'if')) return false;
  const b = kind(i + 1);
  const c = kind(i + 2);
  switch (val(i)) {
    case 'select':
      return selectAt(i);
    case 'insert':
    case 'replace':
      return val(i + 1) === 'into' && (c === WORD || c === KW || c === FN);
    case 'update':
      return (b === WORD || b === KW) && val(i + 2) === 'set';
    case 'delete': {
      let f = i + 1;
      while (val(f) === 'low_priority' || val(f) === 'quick' || val(f) === 'ignore') f++;
      return val(f) === 'from' && kind(f + 1) !== NONE;
    }
    case 'load':
      return (val(i + 1) === 'data' || val(i + 1) === 'xml') && nameIn(i + 2, i + 6, 'infile');
    case 'if':
      return (val(i + 1) === 'exists' && c === LP) || (val(i + 1) === 'not' && val(i + 2) === 'exists' && kind(i + 3) === LP);
    case 'drop':
    case 'create':
    case 'alter':
    case 'truncate':
    case 'rename':
      return b !== NONE && OBJECTS.has(val(i + 1));
    case 'exec':
    case 'execute':
      return b !== NONE && (b === LP || b === VAR || b === STR || textStarts(i + 1, ['xp_', 'sp_', 'master.', 'dbo.', 'sys.']));
    case 'declare':
      return b === VAR;
    case 'shutdown':
      return b === NONE || b === CMT || b === SEMI || val(i + 1) === 'with';
    case 'waitfor':
      return val(i + 1) === 'delay' || val(i + 1) === 'time';
    case 'set':
      return b === VAR && c === CMP;
    case 'grant':
      return nameIn(i, i + 8, 'to', 'on');
    case 'begin':
      return val(i + 1) === 'declare' || b === WORD;
    default:
      return false;
  }
}

/** `select <list> [from …]` whose list looks like code: numbers, `*`, functions, variables, comma lists of expressions. */
function selectAt(i: number): boolean {
  let j = i + 1;
  if (val(j) === 'distinct' || val(j) === 'all') j++;
  else if (val(j) === 'top' && kind(j + 1) === NUM) j += 2;
  const first = kind(j);
  if (first === NONE) return false;
  if (val(j) === '*' || first === VAR) return true;
  if (unaryEnd(j) > j) {
    // `select -sin(1), 2 from`, `select binary cos(1))`: one expression, then the list or the query goes on.
    const e = operandEnd(j);
    const next = kind(e);
    return e !== -1 && (next === NONE || next === COMMA || next === CMT || next === RP || next === SEMI || val(e) === 'from');
  }
  if (first === NUM || first === STR || val(j) === 'null') {
    // `select 1,2,3`, `select 'a' from`, `select null--`, `select 1 or 'a'`; a lone quoted word ("select 'and'") is prose.
    const e = expressionEnd(j);
    const next = kind(e);
    return next === NONE ? first === NUM : next === COMMA || next === CMT || next === SEMI || val(e) === 'from' || val(e) === 'union' || next === RP;
  }
  if (val(j) === 'case' || val(j) === 'if') return true;
  if (first === FN) return operandEnd(j) !== -1;
  if (first === LP) return skipParens(j) > j + 1;
  if (first === WORD) {
    // A single column (or arithmetic on it: `login/2`) followed by FROM/comma/end is code; three
    // words in a row ("the best option") is prose.
    let w = j + 1;
    while (kind(w) === OP && BINARY_OPS.has(val(w))) {
      const p = primaryEnd(w + 1);
      if (p === -1) break;
      w = p;
    }
    const next = kind(w);
    if (next === NONE || next === CMT || next === SEMI) return true;
    if (next === COMMA) return isOperand(w + 1);
    if (next === RP) return true;
    if (val(w) === 'from') {
      const table = kind(w + 1);
      const clause = kind(w + 2);
      if (table === NONE || (table !== WORD && table !== LP)) return false;
      if (clause === NONE || clause === CMT || clause === SEMI || clause === RP || val(w + 2) === 'union') return true;
      return CLAUSES.has(val(w + 2)) && kind(w + 3) !== NONE;
    }
    if (val(w) === 'as') return true;
  }
  return false;
}

/** Operand or operator that only code writes (a literal, variable, call or symbol), unlike the words of prose. */
function isCodeToken(i: number): boolean {
  const k = kind(i);
  const v = val(i);
  return k === NUM || k === STR || k === VAR || k === FN || k === OP || v === 'null' || (k === CMP && SYMBOL_CMP_OPS.has(v)) || v === '&&' || v === '||';
}

/**
 * After a closed literal, an operator and an expression that ends in a literal the application's
 * own closing quote (`quote`) completes: `x' = 'y`, `1' or '1' xor '0`, `aa' regexp- md5(1) or '1`.
 * The query stays valid without any comment. The trailing literal is one short token (`'1`), not
 * a phrase, and the expression has a literal or symbol in it: words joined by `and` between
 * quotes (`…calendar" and "disney`) are prose.
 */
function implicitExpression(j: number, quote: number): boolean {
  const last = len - 1;
  if (kind(last) !== STR || openQuote(last) !== quote || ENDS[base + last]! - STARTS[base + last]! > 24) return false;
  const b = binopEnd(j);
  if (b === -1 || expressionEnd(b) !== len) return false;
  const body = textOf(last).trimEnd();
  for (let i = 0; i < body.length; i++) if (isSpace(body.charCodeAt(i))) return false;
  // A lone operator between two quotes (`"*"`, `' = '`) is as likely a quoted symbol as code.
  if (len - j === 2 && body === '') return false;
  for (let i = j; i < len - 1; i++) if (isCodeToken(i)) return true;
  return false;
}

/**
 * Scans one token stream (one context) and reports what it finds. `from`: the stream is the whole
 * value, or follows a quote or `)` that may close the application's literal or group (a breakout);
 * `closer` = that quote character when it ends a word or starts the value (`x'…`, `'…`), as a
 * closing quote does, rather than opening a quotation (`the 'x' …`, `f('x')`); 0 otherwise.
 */
function scan(value: string, stream: number, from: 'value' | 'quote' | 'paren', closer: number, report: Report): void {
  if (STREAM_COUNT[stream] === 0) return;
  readStream(value, stream, STREAM_COUNT[stream]!);
  const breakout = from !== 'value';
  // A literal broken out of and immediately commented away: `admin'--`, `x')#`.
  if (breakout) {
    let j = 0;
    while (kind(j) === RP) j++;
    const c = kind(j);
    // `admin'--`, `x')#`: the quote ends a word, as a closing quote does ("soap 1 '#" opens a quotation).
    if (c === CMT && isBare(j) && (from === 'paren' || closer !== 0)) report('sqli-breakout-comment');
    if (c === SEMI && statementAt(j + 1)) report('sqli-stacked-query');
    if (c === LOGIC) {
      const k = expressionEnd(j + 1);
      const after = k === -1 ? NONE : kind(k);
      let p = unaryEnd(j + 1);
      while (kind(p) === LP) p = unaryEnd(p + 1);
      const operand = kind(p);
      // `' or 1--`, `' and true#`, `' or sleep(5)`, `' and (benchmark(9,1))--`, `' or now()*0`: a
      // literal or call closing the condition. A word ("…\" and coffee") or an unclosed string
      // ("…\" and \"disney") is prose.
      if (k !== -1 && (after === NONE || after === CMT || after === SEMI) && (operand === NUM || operand === FN || val(p) === 'true' || val(p) === 'false' || val(p) === 'null' || (operand === STR && openQuote(p) === 0 && after !== NONE))) {
        report('sqli-breakout-boolean');
      }
      if (calls(p, RISKY)) report('sqli-function-call');
    }
    // A literal closed, some SQL, and the rest commented out: `x' collate nocase--`, `' notnull --`.
    const last = len - 1;
    if (kind(last) === CMT && isBare(last) && len <= 12) {
      for (let x = 0; x < last; x++) {
        const k = kind(x);
        if (k === LOGIC || k === CMP || k === KW || k === FN) {
          report('sqli-breakout-comment');
          break;
        }
      }
    }
    if (val(j) === 'order' && val(j + 1) === 'by' && kind(j + 2) === NUM) report('sqli-order-by-probe');
    if (val(j) === 'group' && val(j + 1) === 'by') report('sqli-order-by-probe');
    // `' having 1=1--`, `' procedure analyse()`, `' into outfile '…'`; "the 'close' procedure is…" is prose.
    if ((val(j) === 'having' && (comparisonAt(j + 1) || isLiteral(operandAt(j + 1)))) || (val(j) === 'procedure' && val(j + 1) === 'analyse') || (val(j) === 'into' && (val(j + 1) === 'outfile' || val(j + 1) === 'dumpfile'))) report('sqli-order-by-probe');
    if (statementAt(j) && val(j) !== 'set') report('sqli-statement');
    if (closer !== 0 && implicitExpression(j, closer)) report('sqli-breakout-boolean');
    if ((c === OP && CALL_OPS.has(val(j))) || c === CMP) {
      if (operandEnd(j + 1) !== -1 && calls(j + 1, RISKY)) report('sqli-function-call');
    }
  }
  for (let i = 0; i < len; i++) {
    // Prose is mostly plain names, none of which starts anything below (all these are reserved words, symbols or quoted).
    if ((FLAGS[base + i]! & PLAIN) !== 0) continue;
    const k = kind(i);
    const v = val(i);
    if (v === 'union') {
      let j = i + 1;
      while (val(j) === 'all' || val(j) === 'distinct' || kind(j) === LP) j++;
      if (val(j) === 'select') report('sqli-union-select');
    } else if (k === LOGIC && (breakout || i <= 3)) {
      // Outside a literal, the boolean must follow the value's first operand (`1 or 1=1`, `1) and (…`)
      // or start the value (`and 1=1`): comparisons deep inside code or prose ("if (x > 0 && y < 10)")
      // are not an injected condition. Prose like "x or y = z" compares two words (see comparisonAt).
      if (!breakout && i > 0 && !isOperand(i - 1) && kind(i - 1) !== RP) continue;
      const lhs = operandAt(i + 1);
      if (comparisonAt(i + 1)) report('sqli-boolean-expression');
      else if (calls(lhs, RISKY) && operandEnd(i + 1) !== -1) report('sqli-function-call');
      else if ((kind(i + 1) === LP && val(i + 2) === 'select') || (val(i + 1) === 'select' && selectAt(i + 1))) report('sqli-boolean-expression');
    } else if (k === SEMI && statementAt(i + 1)) {
      report('sqli-stacked-query');
    } else if (calls(i, TIMED) && isOperand(i + 2) && kind(i + 3) !== NONE) {
      report('sqli-time-delay');
    } else if (v === 'waitfor' && (val(i + 1) === 'delay' || val(i + 1) === 'time') && kind(i + 2) === STR) {
      report('sqli-time-delay');
    } else if (calls(i, RISKY) && calls(i + 2, RISKY)) {
      // Nested database functions: `concat(char(…))`, `ascii(substring(…))`.
      report('sqli-function-call');
    } else if (v === 'select' && kind(i - 1) === LP && selectAt(i) && (breakout || kind(i - 2) === CMP || kind(i - 2) === LOGIC || kind(i - 2) === COMMA || kind(i - 2) === LP || selectIsCode(i))) {
      // A sub-select inside an expression or as the whole value: `1 rlike (select …)`, `and (select count(*) …)`,
      // `(select top 1 name from sysobjects)`; "(select one)" in a form's help text is not one.
      report('sqli-statement');
    } else if (v === 'case' && (i === 0 || kind(i - 1) === LP || kind(i - 1) === CMP || kind(i - 1) === LOGIC || kind(i - 1) === COMMA) && caseAt(i)) {
      report('sqli-statement');
    } else if (k === VAR && textStarts(i, ['@@']) && i > 0 && (kind(i - 1) === LP || kind(i - 1) === COMMA || kind(i - 1) === CMP || kind(i - 1) === LOGIC || kind(i - 1) === OP)) {
      // A server variable (`@@version`, `@@hostname`) read inside an expression or call.
      report('sqli-function-call');
    } else if (v === '::' && kind(i - 1) === RP && kind(i + 1) === WORD) {
      // A call's result cast to a type (`starts_with(pass,'a')::int`): PostgreSQL error-based extraction.
      report('sqli-function-call');
    } else if ((v === 'exec' || v === 'execute') && textStarts(i + 1, ['xp_', 'sp_', 'master.'])) {
      // SQL Server's extended procedures (`exec master..xp_cmdshell 'dir'`), wherever they appear.
      report('sqli-statement');
    } else if (v === 'into' && (val(i + 1) === 'outfile' || val(i + 1) === 'dumpfile')) {
      report('sqli-statement');
    }
  }
  if (statementAt(0) && val(0) !== 'set' && val(0) !== 'begin') report('sqli-statement');
  // `1=1`, `'a'='a'`: a comparison of a literal with itself is only ever written to be always true.
  for (let i = 1; i + 1 < len; i++) {
    if (IDS[base + i] === EQUALS_ID && !isPlain(i) && isLiteral(i - 1) && kind(i - 1) === kind(i + 1) && sameText(i - 1, i + 1) && openQuote(i + 1) === 0 && (i === 1 || kind(i - 2) !== OP)) {
      report('sqli-tautology');
      break;
    }
  }
  if (!breakout) numericTail(report);
}

/**
 * A numeric parameter (`-1`, `1*1`, `@v`) followed by what only SQL puts there: ORDER/GROUP BY
 * column probing (`1 order by 5`), a bare comment or `;` ending the query (`1--`, `1 and 1/*`), or
 * a UNION without its SELECT yet (`-1 union`, `-1 union 1,2,3--`).
 */
function numericTail(report: Report): void {
  const lead = kind(operandAt(0));
  if (lead !== NUM && lead !== VAR) return;
  const first = primaryEnd(0);
  const e = expressionEnd(0);
  if (e === -1) return;
  // `1 - ord('a')`, `1 || lpad(user,7,1)`: arithmetic on database functions. A lone `|` is how code
  // listings separate line numbers (`85 | if (…)`), not an operator.
  for (let k = first; k !== -1 && k < e; ) {
    const b = binopEnd(k);
    if (b === -1) break;
    if (val(k) !== '|' && calls(operandAt(b), RISKY) && kind(unaryEnd(b) + 1) === LP) {
      report('sqli-function-call');
      break;
    }
    k = primaryEnd(b);
  }
  const next = kind(e);
  if (next === NONE) return;
  if ((val(e) === 'order' || val(e) === 'group') && val(e + 1) === 'by' && (kind(e + 2) === NUM || calls(e + 2, RISKY))) report('sqli-order-by-probe');
  else if (e === len - 1 && ((next === CMT && isBare(e)) || (next === SEMI && e === first)) && !hasWordOrString()) report('sqli-breakout-comment');
  else if (val(e) === 'union' && (kind(e + 1) === NONE || kind(e + 1) === CMT || (kind(e + 1) === NUM && kind(e + 2) === COMMA))) report('sqli-union-select');
}

/** Some token of the stream is a name or a literal string. */
function hasWordOrString(): boolean {
  for (let x = 0; x < len; x++) if (kind(x) === WORD || kind(x) === STR) return true;
  return false;
}

/** `(select …)` at `i` whose list or clauses only code has: a number, variable, call or `*` first, or a FROM clause inside the parentheses. */
function selectIsCode(i: number): boolean {
  if (kind(operandAt(val(i + 1) === 'top' ? i + 3 : i + 1)) !== WORD) return true;
  return nameIn(i + 2, skipParens(i - 1), 'from');
}

/** `case [operand] when … then … end`: the whole conditional, not the English word "case". */
function caseAt(i: number): boolean {
  let j = i + 1;
  if (val(j) !== 'when') j = operandEnd(j);
  if (j === -1 || val(j) !== 'when') return false;
  let then = -1;
  for (let k = j + 1; k < len; k++) {
    if (val(k) === 'then' && then === -1) then = k;
    else if (val(k) === 'end' && then !== -1) return true;
  }
  return false;
}

/** Text that some rule of a stream's scan needs (see {@link scanTextMayReport}). */
const VALUE_SCAN_TEXT = [
  '=', // tautology
  '@@', // server variable
  '::', // cast of a call
  'union',
  'waitfor',
  'case',
  'xec', // exec, execute
  'file', // into outfile, into dumpfile
  '_user', // current_user, session_user, system_user: functions without parentheses
];
/**
 * A quote-like character (see detectSql) or any {@link VALUE_SCAN_TEXT}, in one pattern: prose has
 * none, and one search for all costs about what the search for quote-like characters alone did
 * (PET_NOTES: 0.45 µs, then 0.8 µs for the texts one by one).
 */
const QUOTE_LIKE_OR_SCAN_TEXT = new RegExp(`${QUOTE_LIKE.source}|${VALUE_SCAN_TEXT.join('|')}`); // no text has a character special in a pattern
/** Verbs of {@link statementAt}. */
const VERBS: ReadonlySet<Name | ''> = new Set<Name>(['select', 'insert', 'replace', 'update', 'delete', 'load', 'if', 'drop', 'create', 'alter', 'truncate', 'rename', 'exec', 'execute', 'declare', 'shutdown', 'waitfor', 'set', 'grant', 'begin']);
/** After `(` or `;`: a comment (whitespace to SQL) or a literal hide what the next token is; taken as anything. */
const HIDDEN_NEXT = new Uint8Array(128);
for (const c of [47 /* / */, 42 /* * */, 45 /* - */, 35 /* # */, 39 /* ' */, 34 /* " */, 96 /* ` */]) HIDDEN_NEXT[c] = 1;
/** Character `c` is one of {@link HIDDEN_NEXT}: a table read, not a set's hash lookup, for each `(` and `;` (7 in PET_NOTES). */
function hiddenNext(c: number): boolean {
  return c < 128 && HIDDEN_NEXT[c] === 1;
}

/** Index of the first character from `i` on that is not a SQL space (`n`: the value's length; characters in {@link chars}). */
function skipSpaces(n: number, i: number): number {
  while (i < n && isSpace(chars[i]!)) i++;
  return i;
}

/** The {@link Name} that the name starting at `i` spells as the tokeniser reads it (`''` when none, or no name starts there). */
function nameAt(n: number, i: number): Name | '' {
  const c = chars[i]!;
  if (!isWordStart(c) || c === 160 || c === 64) return '';
  let j = i + 1;
  while (j < n && isWordChar(chars[j]!) && chars[j] !== 64) j++;
  return NAMES[nameId(i, chars[j - 1] === 46 ? j - 1 : j)]!;
}

/**
 * True when the token before `end` may be a call that starts a rule of the whole value's scan: a
 * time delay or a nested database function ({@link RISKY_NAMES}). A run of name characters
 * is one token, unless a digit, `.`, `@` or U+00A0 in it can cut it (`1sleep`): then every start in
 * it is tried.
 */
function scannedCallBefore(s: string, end: number): boolean {
  let b = end;
  let whole = true;
  while (b > 0 && isWordChar(chars[b - 1]!)) {
    b--;
    const c = chars[b]!;
    if (isDigit(c) || c === 46 || c === 64 || c === 160) whole = false;
  }
  if (whole) return RISKY_NAMES.hasAt(s, b, end);
  for (let a = b; a < end; a++) if (RISKY_NAMES.hasAt(s, a, end)) return true;
  return false;
}

/**
 * False when {@link scan} of the whole value (not a breakout) cannot report anything: its first
 * tokens are a plain name and no boolean operator (statements, numeric parameters and booleans
 * at the start), and {@link scanTextMayReport} is false. Prose passes, and then only the quote
 * contexts are tokenised, not the whole value.
 */
function valueHeadMayReport(s: string): boolean {
  const count = tokenize(s, 0, 4, STREAMS, 0, 0);
  readStream(s, STREAMS, count);
  if (count > 0 && (!isPlain(0) || val(0) === 'if')) return true;
  for (let x = 0; x < count; x++) if (kind(x) === LOGIC) return true;
  return false;
}

/**
 * False when the text has none of what {@link scan}'s rules past the start of a stream need, but
 * for its boolean operators: a tautology's `=`, UNION, WAITFOR, CASE, EXEC, INTO OUTFILE, `@@`,
 * `::`, a time-delay or database function called (with `(`, or `current_user` and the like), a
 * statement after `;`, a sub-select after `(`. Each condition is looser than its rule, and is on
 * the text, so it holds for every stream of it, wherever the stream starts. `noScanText`: `s` is
 * known to have none of {@link VALUE_SCAN_TEXT}.
 */
function scanTextMayReport(s: string, noScanText: boolean): boolean {
  if (!noScanText) for (const text of VALUE_SCAN_TEXT) if (s.includes(text)) return true;
  for (let p = s.indexOf('('); p !== -1; p = s.indexOf('(', p + 1)) {
    const next = skipSpaces(s.length, p + 1);
    if (hiddenNext(chars[next]!) || nameAt(s.length, next) === 'select') return true;
    let before = p;
    while (before > 0 && isSpace(chars[before - 1]!)) before--;
    if (scannedCallBefore(s, before)) return true;
  }
  for (let p = s.indexOf(';'); p !== -1; p = s.indexOf(';', p + 1)) {
    const next = skipSpaces(s.length, p + 1);
    if (hiddenNext(chars[next]!) || VERBS.has(nameAt(s.length, next))) return true;
  }
  return false;
}

/** Tokens a quote stream is read to first (see detectSql): more than the 12 of the rule for a literal commented out after a few tokens. */
const QUOTE_HEAD = 13;
/**
 * Text that may be a boolean operator's token: `and`, `or`, `xor`, `div` where a name may end
 * (not before a name's character; `.` and `@` may end one) whatever precedes it (`1and` is
 * `1 and`), `&&`, `||`.
 */
const LOGIC_TEXT = /(?:and|or|div)(?![\w$\u0080-\uffff])|&&|\|\|/g;

/**
 * True when {@link scan} of quote stream `stream` cannot report, whatever its tokens after the
 * first `count` (QUOTE_HEAD: its rule for streams of 12 tokens or fewer cannot fire) that start
 * at `rest`, given that {@link scanTextMayReport} is false: then every rule but the start rules
 * and the boolean operator's needs text the value lacks, and these read only the tokens read:
 * - at the start (after any `)`) stands a plain name other than `if` and `mod`, or a token that
 *   spells no {@link Name} and is no comment, `;`, operator or comparison: no start rule or
 *   statement begins with it, and it is no binary operator (the implicit expression needs one);
 * - after each boolean operator read stands a token that begins no operand, call, `(` or SELECT,
 *   or an operand (not a call or `(`) that no operator, comparison or NOT follows: comparisonAt
 *   and the rest of its rule fail on these two tokens;
 * - no boolean operator follows: {@link LOGIC_TEXT} would find its text.
 */
function quoteHeadQuiet(value: string, stream: number, count: number, rest: number): boolean {
  readStream(value, stream, count);
  let j = 0;
  while (kind(j) === RP) j++;
  const c = kind(j);
  const v = val(j);
  if (j === count || c === CMT || c === SEMI || c === LOGIC || c === OP || c === CMP || (v !== '' && (!isPlain(j) || v === 'if' || v === 'mod'))) return false;
  for (let i = j; i < count; i++) {
    if (kind(i) !== LOGIC) continue;
    const next = kind(i + 1);
    const w = val(i + 1);
    if (i + 2 >= count || next === FN || next === LP || next === OP || w === 'not' || w === 'binary' || w === 'select') return false;
    if (isOperand(i + 1) && (kind(i + 2) === OP || kind(i + 2) === CMP || val(i + 2) === 'not')) return false;
  }
  return !logicTextFrom(value, rest);
}

/** {@link LOGIC_TEXT} for one search in a given text, its first match's `index` read. */
const LOGIC_TEXT_FIRST = new RegExp(LOGIC_TEXT.source);
/**
 * In the value of the current detectSql call, {@link LOGIC_TEXT} has no match that starts at or
 * after this index; -1 when that is not known of any index. Set by {@link logicTextFrom}, reset by each call.
 */
let logicNoneFrom = -1;

/**
 * {@link LOGIC_TEXT} has a match in `value` that starts at or after `from`. Quote streams are read
 * from the last start to the first, so each search starts before the one before it: it only needs
 * to look up to where that one found none, not to the end (PET_NOTES: one search of its last ~115
 * characters, ~0.1 µs, saved). A match is 4 characters at most with its look-ahead, so the text up
 * to 3 past that point decides every match that starts before it.
 */
function logicTextFrom(value: string, from: number): boolean {
  if (logicNoneFrom !== -1 && from >= logicNoneFrom) return false;
  let found: boolean;
  if (logicNoneFrom === -1) {
    LOGIC_TEXT.lastIndex = from;
    found = LOGIC_TEXT.test(value);
  } else {
    const match = LOGIC_TEXT_FIRST.exec(value.slice(from, logicNoneFrom + 3));
    found = match !== null && match.index < logicNoneFrom - from;
  }
  if (!found) logicNoneFrom = from;
  return found;
}

/**
 * Reports SQL injection rules for one normalised, lower-cased value.
 *
 * @example
 *   detectSql("' or 1=1--", report) // reports sqli-breakout-boolean, sqli-boolean-expression
 */
export function detectSql(value: string, report: Report): void {
  // Typographic and modifier apostrophes become `'` in databases that convert to a narrower charset.
  // None of either in `value` (the texts have no quote): prose passes both tests with one search.
  const plain = !QUOTE_LIKE_OR_SCAN_TEXT.test(value);
  logicNoneFrom = -1;
  firstBackslash = -2;
  const lower = !plain && QUOTE_LIKE.test(value) ? value.replace(QUOTE_LIKE_ALL, "'") : value;
  loadChars(lower);
  const paren = lower.indexOf(')');
  // `)` breakouts from numeric sub-expressions: `1) or (1=1`.
  const parenStart = paren !== -1 && paren < 24 ? paren + 1 : -1;
  // The whole value's stream is needed when its scan can report, and reused by the `)` context.
  let wholeNeeded = parenStart !== -1 || valueHeadMayReport(lower);
  let textMay: boolean | undefined;
  if (!wholeNeeded) wholeNeeded = textMay = scanTextMayReport(lower, plain);
  const valueStart = lower.length - lower.trimStart().length;
  // Each quote tried as the point where the input leaves a literal: stream x starts after the x-th, TRY_CLOSER[x] is its closer (see scan).
  let tries = 0;
  for (const q of ["'", '"', '`']) {
    let from = 0;
    for (let k = 0; k < BREAKOUT_TRIES; k++) {
      const at = lower.indexOf(q, from);
      if (at === -1) break;
      // A quote right after a letter or digit closes a literal (`1' = '1`); after `(`, `=` or a space it opens one.
      const closing = at === valueStart || isAlnum(lower.charCodeAt(at - 1));
      STREAM_FROM[tries] = at + 1;
      TRY_CLOSER[tries++] = closing ? q.charCodeAt(0) : 0;
      from = at + 1;
    }
  }
  // Then the `)` context and the whole value, each when needed.
  let streams = tries;
  const parenStream = parenStart !== -1 ? streams++ : -1;
  if (parenStream !== -1) STREAM_FROM[parenStream] = parenStart;
  const wholeStream = wholeNeeded ? streams++ : -1;
  if (wholeStream !== -1) STREAM_FROM[wholeStream] = 0;
  // Every stream runs to the end of the value, so they are read from the last start to the first:
  // one that reaches where a later one started takes the rest from it (the tries of `"a" or "b"`
  // meet, the whole value meets a try after its quoted literals). All starts differ (0, after distinct characters).
  for (let x = 0; x < streams; x++) {
    let k = x;
    for (; k > 0 && STREAM_FROM[STREAM_ORDER[k - 1]!]! < STREAM_FROM[x]!; k--) STREAM_ORDER[k] = STREAM_ORDER[k - 1]!;
    STREAM_ORDER[k] = x;
  }
  // A quote stream is read to QUOTE_HEAD tokens first (all of them when it meets a stream read),
  // and no further when they show that its scan cannot report (see quoteHeadQuiet): prose after an
  // apostrophe is most of the tokens of prose. Otherwise it goes on from where it stopped, as if
  // read in one go. A stream not read is taken by no other.
  let read = 0;
  for (let k = 0; k < streams; k++) {
    const x = STREAM_ORDER[k]!;
    // A stream of QUOTE_HEAD characters or fewer has no token past the head: it is read in one go.
    if (x < tries && lower.length - STREAM_FROM[x]! > QUOTE_HEAD && !(textMay ??= scanTextMayReport(lower, plain))) {
      const head = tokenize(lower, STREAM_FROM[x]!, QUOTE_HEAD, x, read, 0);
      const rest = tokenStop;
      if (rest !== -1 && quoteHeadQuiet(lower, x, head, rest)) {
        STREAM_COUNT[x] = 0;
        continue;
      }
      STREAM_COUNT[x] = rest === -1 ? head : tokenize(lower, rest, MAX_TOKENS, x, read, head);
    } else STREAM_COUNT[x] = tokenize(lower, STREAM_FROM[x]!, MAX_TOKENS, x, read, 0);
    read |= 1 << x;
  }
  if (wholeStream !== -1) scan(lower, wholeStream, 'value', 0, report);
  for (let x = 0; x < tries; x++) scan(lower, x, 'quote', TRY_CLOSER[x]!, report);
  if (parenStream !== -1) scan(lower, parenStream, 'paren', 0, report);
  // Every catalogue name has `_`, `sys` or `mysql` (`ql`) in it; `ys` is searched first, `y` being rarer than `s`.
  if ((lower.includes('_') || (lower.includes('ys') && lower.includes('sys')) || lower.includes('ql')) && CATALOG.test(lower)) report('sqli-catalog-object');
}
