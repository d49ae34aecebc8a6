/**
 * SQL injection detection by tokenising the input the way a SQL parser would, in each context the
 * value could be pasted into (a bare number, a '…' literal, a "…" literal), and looking for
 * structure that only code has: a literal broken out of and followed by a boolean expression or a
 * comment, a UNION SELECT, a stacked statement, calls to database functions in expressions.
 * English prose that merely contains SQL words ("select the best option from the menu") has none
 * of that structure.
 */
import type { Report } from './rules.js';

type Kind = 'str' | 'num' | 'word' | 'kw' | 'fn' | 'op' | 'cmp' | 'logic' | 'lp' | 'rp' | 'comma' | 'semi' | 'cmt' | 'var' | 'dot';

interface Tok {
  readonly k: Kind;
  readonly v: string;
  /** A string literal that the input leaves open (the application's own closing quote ends it): its quote character; 0 otherwise. */
  readonly open: number;
  /** For comments: nothing but whitespace follows the comment marker. */
  readonly bare: boolean;
  /** A name written without quotes that is no reserved word: no rule looks at one by itself. */
  readonly plain: boolean;
}

/** Every token has the same shape (one hidden class: property reads in the grammar stay monomorphic). */
function tok(k: Kind, v: string, open = 0, bare = false, plain = false): Tok {
  return { k, v, open, bare, plain };
}

const KEYWORDS = new Set([
  'select', 'union', 'insert', 'update', 'delete', 'drop', 'create', 'alter', 'truncate', 'from', 'where',
  'not', 'null', 'having', 'group', 'order', 'by', 'limit', 'offset', 'into', 'values', 'set', 'exec',
  'execute', 'declare', 'case', 'when', 'then', 'else', 'end', 'as', 'join', 'on', 'all', 'distinct', 'table',
  'database', 'procedure', 'waitfor', 'delay', 'shutdown', 'grant', 'true', 'false', 'top', 'outfile',
  'dumpfile', 'analyse', 'begin', 'rename', 'load', 'replace', 'handler', 'asc', 'desc', 'binary', 'collate', 'notnull',
]);
const LOGIC = new Set(['and', 'or', 'xor', 'div', '&&', '||']);
const WORD_CMP = new Set(['like', 'rlike', 'regexp', 'is', 'in', 'between', 'sounds', 'glob', 'similar']);
const SYMBOL_CMP = new Set(['=', '<', '>', '<=', '>=', '<>', '!=', '<=>', '!<', '!>', ':=']);
/** Two-character operators (`<=>` is read on its own), and the characters that can end one. */
const PAIRS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['<<', 'op'], ['>>', 'op'], ['::', 'op'], ['||', 'logic'], ['&&', 'logic'],
  ...[...SYMBOL_CMP].filter((o) => o.length === 2).map((o): [string, Kind] => [o, 'cmp']),
]);
const PAIR_SECOND = '<>=|&:';

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
/** Functions that SQL calls without parentheses. */
const NILADIC = new Set(['current_user', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'utc_date', 'utc_time', 'utc_timestamp', 'session_user', 'system_user', 'sysdate']);
const UNARY_OPS = new Set(['-', '+', '!', '~']);
const BINARY_OPS = new Set(['+', '-', '*', '/', '%', '^', '&', '|', '<<', '>>']);
/** Kind of each reserved word (one lookup per word while tokenising). */
const WORD_KINDS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ...[...NILADIC].map((w): [string, Kind] => [w, 'fn']),
  ...[...KEYWORDS].map((w): [string, Kind] => [w, 'kw']),
  ...[...WORD_CMP].map((w): [string, Kind] => [w, 'cmp']),
  ...[...LOGIC].map((w): [string, Kind] => [w, 'logic']),
]);
/**
 * Reserved words by first and last letter a–z, so that a word is compared in place with the few of
 * its shape: slicing every word of prose and looking the slice up costs more than tokenising it.
 */
const RESERVED_BY_ENDS: string[][] = Array.from({ length: 26 * 26 }, () => []);
/** Bit `length` is set when a reserved word of that length has those ends: most words of prose are let go on this alone. */
const RESERVED_LENGTHS = new Uint32Array(26 * 26);
/** The other reserved words (`&&`, `||`), by first character. */
const RESERVED_ODD = new Map<number, string[]>();
for (const w of WORD_KINDS.keys()) {
  const a = w.charCodeAt(0) - 97;
  const z = w.charCodeAt(w.length - 1) - 97;
  if (a >= 0 && a <= 25 && z >= 0 && z <= 25 && w.length < 32) {
    RESERVED_BY_ENDS[a * 26 + z]!.push(w);
    RESERVED_LENGTHS[a * 26 + z]! |= 1 << w.length;
  } else RESERVED_ODD.set(w.charCodeAt(0), [...(RESERVED_ODD.get(w.charCodeAt(0)) ?? []), w]);
}

/** The reserved word (the WORD_KINDS key itself) that `s` spells from `start` to `end`, or undefined. */
function reservedAt(s: string, start: number, end: number): string | undefined {
  const a = s.charCodeAt(start) - 97;
  const z = s.charCodeAt(end - 1) - 97;
  const length = end - start;
  let candidates: readonly string[] | undefined;
  if (a >= 0 && a <= 25 && z >= 0 && z <= 25) {
    if (length > 31 || ((RESERVED_LENGTHS[a * 26 + z]! >>> length) & 1) === 0) return undefined;
    candidates = RESERVED_BY_ENDS[a * 26 + z]!;
  } else candidates = RESERVED_ODD.get(s.charCodeAt(start));
  if (candidates === undefined) return undefined;
  for (let c = 0; c < candidates.length; c++) {
    const w = candidates[c]!;
    if (w.length !== length) continue;
    let k = 1;
    while (k < length - 1 && w.charCodeAt(k) === s.charCodeAt(start + k)) k++;
    if (k >= length - 1) return w;
  }
  return undefined;
}
const TIME_FUNCTIONS = new Set(['sleep', 'benchmark', 'pg_sleep', 'dbms_lock.sleep', 'dbms_pipe.receive_message', 'get_lock']);
/** Catalogue objects only an attacker enumerating the schema names. */
const CATALOG = /\b(?:information_schema|mysql\.user|sysobjects|syscolumns|sys\.tables|sys\.objects|pg_catalog|pg_shadow|sqlite_master|all_tables|user_tables|msysobjects|master\.\.sysdatabases|pg_user)\b/;

const MAX_TOKENS = 400;
const QUOTE_LIKE = /[\u2018\u2019\u00b4\u02bc]/;
const QUOTE_LIKE_ALL = /[\u2018\u2019\u00b4\u02bc]/g;

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

/** Index of the newline ending the line comment at `i` when more than whitespace follows it, else -1. */
function lineEnd(s: string, i: number): number {
  let nl = i;
  while (nl < s.length && s.charCodeAt(nl) !== 10 && s.charCodeAt(nl) !== 13) nl++;
  // Only when SQL follows on a later line: a comment that ends the input keeps ending the query.
  for (let j = nl + 1; j < s.length; j++) if (!isSpace(s.charCodeAt(j))) return nl;
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
 * Tokenises `s` from `start` (lower-cased input) into SQL tokens. Linear, bounded by MAX_TOKENS.
 * `limit` tokens at most: fewer than MAX_TOKENS give the first tokens of the stream. `read`: streams
 * of `s` already tokenised. The tokeniser keeps no state but its position (what it reads from `i`
 * on depends on `s` and `i` alone), so when it stands where one of them started, the tokens from
 * there on are that stream's and are taken from it (see {@link takeRest}) instead of read again.
 */
function tokenize(s: string, start: number, limit = MAX_TOKENS, read: readonly Stream[] = []): Tok[] {
  const out: Tok[] = [];
  let i = start;
  const n = s.length;
  // The first backslash at or after the literal being read (-1: none left), searched for once rather
  // than to the end of the value for every literal; -2 until the first literal.
  let backslash = -2;
  while (i < n && out.length < limit) {
    const c = s.charCodeAt(i);
    // Names first: most tokens are (no other token starts with these characters; U+00A0 is a space).
    if (isWordStart(c) && c !== 160) {
      let j = i + 1;
      // `@` only leads a name (`@v`, `@@version`): `or@1` is `or @1`.
      if (c === 64) while (s.charCodeAt(j) === 64) j++;
      while (s.charCodeAt(j) >= 97 && s.charCodeAt(j) <= 122) j++; // the common case first: a–z
      while (j < n && isWordChar(s.charCodeAt(j)) && s.charCodeAt(j) !== 64) j++;
      const end = s.charCodeAt(j - 1) === 46 ? j - 1 : j;
      const reserved = c === 64 ? undefined : reservedAt(s, i, end);
      const v = reserved ?? s.slice(i, end);
      let k = reserved === undefined ? undefined : WORD_KINDS.get(reserved);
      // The spaces after the name make no token: skip them now, and see what follows.
      let p = j;
      while (p < n && isSpace(s.charCodeAt(p))) p++;
      if (c === 64) k = v.length > 1 && v.charCodeAt(v.length - 1) !== 64 ? 'var' : 'op';
      // A name before `(` is a call, unless a full stop ends it ("…in tests. (Vincent)").
      else if (k === undefined) k = s.charCodeAt(p) === 40 && s.charCodeAt(j - 1) !== 46 ? 'fn' : 'word';
      out.push(tok(k, v, 0, false, k === 'word'));
      i = p;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    // Comments: `-- `, `#`, `/* */`. MySQL executes `/*! … */` (versioned comments): read inside.
    if ((c === 45 && s.charCodeAt(i + 1) === 45) || c === 35) {
      // A line comment ends at the newline: what follows is SQL again (`1#x\nunion select…`).
      const eol = lineEnd(s, i);
      if (eol !== -1) {
        i = eol;
        continue;
      }
      const body = s.slice(i + (c === 35 ? 1 : 2));
      // `bare`: the comment only ends the query (`--`, `-- -`, `#`), it does not start prose ("-- very strange").
      out.push(tok('cmt', c === 35 ? '#' : '--', 0, body.trim().length <= 3));
      break;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 42) {
      if (s.charCodeAt(i + 2) === 33 /* ! */) {
        i += 3;
        while (isDigit(s.charCodeAt(i))) i++;
        continue;
      }
      // A closed inline comment is whitespace to SQL (`UNION/**/SELECT`); an unclosed one ends the query.
      const end = s.indexOf('*/', i + 2);
      if (end === -1) {
        out.push(tok('cmt', '/*', 0, true));
        break;
      }
      i = end + 2;
      continue;
    }
    if (c === 42 && s.charCodeAt(i + 1) === 47) {
      i += 2; // the end of a versioned comment
      continue;
    }
    if (c === 39 || c === 34 || c === 96) {
      if (backslash !== -1 && backslash < i + 1) backslash = s.indexOf('\\', i + 1);
      const close = closingQuote(s, i + 1, c, backslash);
      out.push(tok(c === 96 ? 'word' : 'str', s.slice(i + 1, close === -1 ? n : close), close === -1 ? c : 0));
      if (close === -1) break;
      i = close + 1;
      if (takeRest(out, read, i, limit)) break;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(i + 1)))) {
      let j = i + 1;
      if (c === 48 && (s.charCodeAt(j) | 32) === 120) {
        j++;
        while (j < n && (isDigit(s.charCodeAt(j)) || (s.charCodeAt(j) >= 97 && s.charCodeAt(j) <= 102))) j++;
      } else {
        while (j < n && (isDigit(s.charCodeAt(j)) || s.charCodeAt(j) === 46 || s.charCodeAt(j) === 101)) j++;
      }
      // `1union`, `1e0union` are still a number followed by a keyword for MySQL.
      out.push(tok('num', s.slice(i, j)));
      i = j;
      continue;
    }
    if (c === 92 && s.charCodeAt(i + 1) === 110 && !isWordChar(s.charCodeAt(i + 2))) {
      out.push(tok('kw', 'null')); // MySQL's `\N`
      i += 2;
      continue;
    }
    if (c === 41) {
      out.push(RP);
      i++;
      if (takeRest(out, read, i, limit)) break;
      continue;
    }
    if (c === 40) out.push(LP);
    else if (c === 44) out.push(COMMA);
    else if (c === 59) out.push(SEMI);
    else {
      if (c === 60 && s.charCodeAt(i + 1) === 61 && s.charCodeAt(i + 2) === 62) {
        out.push(tok('cmp', '<=>'));
        i += 3;
        continue;
      }
      const pair = PAIR_SECOND.includes(s[i + 1] ?? ' ') ? s.slice(i, i + 2) : '';
      const pairKind = PAIRS.get(pair);
      if (pairKind !== undefined) {
        out.push(tok(pairKind, pair));
        i += 2;
        continue;
      }
      const one = s[i]!;
      out.push(tok(SYMBOL_CMP.has(one) ? 'cmp' : 'op', one));
    }
    i++;
  }
  return out;
}

/**
 * Appends to `out` (up to `limit` tokens) the stream of `read` that starts at `i`, if any: true when
 * one does. Looked for only after a closed literal or a `)`, where streams started at different
 * points meet (the tries of `"a" or "b"`, the whole value after its literal and a try after that
 * literal's closing quote, the whole value and the `)` context); elsewhere it would cost every token
 * a check. A stream cut at MAX_TOKENS still holds every token `out` has room for.
 */
function takeRest(out: Tok[], read: readonly Stream[], i: number, limit: number): boolean {
  for (const x of read) {
    if (x.start !== i) continue;
    for (let k = 0; k < x.tokens.length && out.length < limit; k++) out.push(x.tokens[k]!);
    return true;
  }
  return false;
}

const LP = tok('lp', '(');
const RP = tok('rp', ')');
const COMMA = tok('comma', ',');
const SEMI = tok('semi', ';');

function isLiteral(t: Tok | undefined): boolean {
  return t !== undefined && (t.k === 'num' || t.k === 'str' || t.v === 'null' || t.v === 'true' || t.v === 'false');
}
function isOperand(t: Tok | undefined): boolean {
  return t !== undefined && (isLiteral(t) || t.k === 'word' || t.k === 'var' || t.k === 'fn');
}

/** Index after a balanced `( … )` that starts at `i` (or `i` itself when no paren). */
function skipParens(t: readonly Tok[], i: number): number {
  if (t[i]?.k !== 'lp') return i;
  let depth = 0;
  for (let j = i; j < t.length; j++) {
    if (t[j]!.k === 'lp') depth++;
    else if (t[j]!.k === 'rp' && --depth === 0) return j + 1;
  }
  return t.length;
}

/** Index after the prefix operators at `i`: `-1`, `!x`, `~0`, `not x`, `binary 'a'`. */
function unaryEnd(t: readonly Tok[], i: number): number {
  let j = i;
  for (let x = t[j]; x !== undefined; x = t[++j]) {
    if (!((x.k === 'op' && UNARY_OPS.has(x.v)) || x.v === 'not' || x.v === 'binary')) break;
  }
  return j;
}

/** Reads one operand at `i` (unary minus, function call with arguments, parenthesised sub-select): returns the index after it or -1. */
function operandEnd(t: readonly Tok[], i: number): number {
  const j = unaryEnd(t, i);
  const tok = t[j];
  if (tok === undefined) return -1;
  if (tok.k === 'fn') return skipParens(t, j + 1);
  if (tok.k === 'lp') {
    const inner = operandAt(t, j + 1);
    return inner?.v === 'select' || isOperand(inner) || inner?.k === 'lp' ? skipParens(t, j) : -1;
  }
  if (tok.v === 'select') return j + 1;
  if (isOperand(tok)) {
    // `a.b`, arithmetic chains: `1+1`, `2-1`.
    let e = j + 1;
    while (t[e]?.k === 'op' && '+-*/%^|&'.includes(t[e]!.v) && isOperand(t[e + 1])) e += 2;
    return e;
  }
  return -1;
}

/** Index after a binary operator at `i` (`=`, `+`, `<<`, `or`, `is not`, `not like`, `sounds like`, `mod`), or -1. */
function binopEnd(t: readonly Tok[], i: number): number {
  const tok = t[i];
  if (tok === undefined) return -1;
  if (tok.k === 'logic') return i + 1;
  if (tok.k === 'op') return BINARY_OPS.has(tok.v) ? i + 1 : -1;
  if (tok.k === 'cmp') return (tok.v === 'is' && t[i + 1]?.v === 'not') || (tok.v === 'sounds' && t[i + 1]?.v === 'like') ? i + 2 : i + 1;
  if (tok.v === 'not' && t[i + 1]?.k === 'cmp') return i + 2;
  return tok.v === 'mod' ? i + 1 : -1;
}

/** Index after one primary (prefix operators, then a literal, name, call or parenthesised group), or -1. */
function primaryEnd(t: readonly Tok[], i: number): number {
  const j = unaryEnd(t, i);
  const tok = t[j];
  if (tok === undefined) return -1;
  let e = tok.k === 'fn' ? skipParens(t, j + 1) : tok.k === 'lp' ? skipParens(t, j) : isOperand(tok) ? j + 1 : -1;
  // PostgreSQL casts: `lo_get(1)::text::bool`.
  while (e !== -1 && t[e]?.v === '::' && (t[e + 1]?.k === 'word' || t[e + 1]?.k === 'kw')) e += 2;
  return e;
}

/** Index after an expression `primary (binop primary)*` that starts at `i`, or -1. Linear: each step consumes tokens. */
function expressionEnd(t: readonly Tok[], i: number): number {
  let e = primaryEnd(t, i);
  if (e === -1) return -1;
  for (;;) {
    const b = binopEnd(t, e);
    const next = b === -1 ? -1 : primaryEnd(t, b);
    if (next === -1) return e;
    e = next;
  }
}

/** The operand token itself, past prefix operators (a parenthesis stands for its group). */
function operandAt(t: readonly Tok[], i: number): Tok | undefined {
  return t[unaryEnd(t, i)];
}

/**
 * `operand cmp operand` at `i` (through up to three opening parentheses: `and ((1=1))`) where code
 * rather than prose is compared: a literal, a call, a variable, a sub-select, or a name with itself.
 */
function comparisonAt(t: readonly Tok[], i: number): boolean {
  for (let j = i, depth = 0; depth < 4; depth++, j++) {
    const a = operandEnd(t, j);
    if (a !== -1) {
      let c = a;
      if (t[c]?.v === 'not') c++;
      const cmp = t[c];
      // `in` takes a parenthesised list (`x in (1,2)`); "fixes and improvements in tests" is prose.
      const b = cmp?.k === 'cmp' && (cmp.v !== 'in' || t[c + 1]?.k === 'lp') ? binopEnd(t, c) : -1;
      if (b !== -1 && operandEnd(t, b) !== -1) {
        const lhs = operandAt(t, j);
        const rhs = operandAt(t, b);
        if (isLiteral(lhs) || isLiteral(rhs) || lhs?.k === 'fn' || rhs?.k === 'fn' || lhs?.k === 'lp' || rhs?.k === 'lp' || lhs?.k === 'var' || rhs?.k === 'var' || (lhs?.k === 'word' && lhs.v === rhs?.v)) return true;
      }
    }
    if (t[j]?.k !== 'lp') return false;
  }
  return false;
}

/** Statement that can follow `;` or start a value: verb plus the grammar that must follow it. */
function statementAt(t: readonly Tok[], i: number): boolean {
  const a = t[i];
  const b = t[i + 1];
  const c = t[i + 2];
  // Every verb below is a reserved word, except `if`.
  if (a === undefined || (a.plain && a.v !== 'if')) return false;
  switch (a.v) {
    case 'select':
      return selectAt(t, i);
    case 'insert':
    case 'replace':
      return b?.v === 'into' && (c?.k === 'word' || c?.k === 'kw' || c?.k === 'fn');
    case 'update':
      return (b?.k === 'word' || b?.k === 'kw') && t[i + 2]?.v === 'set';
    case 'delete': {
      let f = i + 1;
      while (t[f]?.v === 'low_priority' || t[f]?.v === 'quick' || t[f]?.v === 'ignore') f++;
      return t[f]?.v === 'from' && t[f + 1] !== undefined;
    }
    case 'load':
      return (b?.v === 'data' || b?.v === 'xml') && t.slice(i + 2, i + 6).some((x) => x.v === 'infile');
    case 'if':
      return (b?.v === 'exists' && c?.k === 'lp') || (b?.v === 'not' && c?.v === 'exists' && t[i + 3]?.k === 'lp');
    case 'drop':
    case 'create':
    case 'alter':
    case 'truncate':
    case 'rename':
      return b !== undefined && ['table', 'database', 'view', 'procedure', 'function', 'user', 'index', 'schema', 'trigger', 'login'].includes(b.v);
    case 'exec':
    case 'execute':
      return b !== undefined && (b.k === 'lp' || b.k === 'var' || b.k === 'str' || /^(?:xp_|sp_|master\.|dbo\.|sys\.)/.test(b.v));
    case 'declare':
      return b?.k === 'var';
    case 'shutdown':
      return b === undefined || b.k === 'cmt' || b.k === 'semi' || b.v === 'with';
    case 'waitfor':
      return b?.v === 'delay' || b?.v === 'time';
    case 'set':
      return b?.k === 'var' && c?.k === 'cmp';
    case 'grant':
      return t.slice(i, i + 8).some((x) => x.v === 'to' || x.v === 'on');
    case 'begin':
      return b?.v === 'declare' || b?.k === 'word';
    default:
      return false;
  }
}

/** `select <list> [from …]` whose list looks like code: numbers, `*`, functions, variables, comma lists of expressions. */
function selectAt(t: readonly Tok[], i: number): boolean {
  let j = i + 1;
  if (t[j]?.v === 'distinct' || t[j]?.v === 'all') j++;
  else if (t[j]?.v === 'top' && t[j + 1]?.k === 'num') j += 2;
  const first = t[j];
  if (first === undefined) return false;
  if (first.v === '*' || first.k === 'var') return true;
  if (unaryEnd(t, j) > j) {
    // `select -sin(1), 2 from`, `select binary cos(1))`: one expression, then the list or the query goes on.
    const e = operandEnd(t, j);
    const next = t[e];
    return e !== -1 && (next === undefined || next.k === 'comma' || next.k === 'cmt' || next.k === 'rp' || next.k === 'semi' || next.v === 'from');
  }
  if (first.k === 'num' || first.k === 'str' || first.v === 'null') {
    // `select 1,2,3`, `select 'a' from`, `select null--`, `select 1 or 'a'`; a lone quoted word ("select 'and'") is prose.
    const next = t[expressionEnd(t, j)];
    return next === undefined ? first.k === 'num' : next.k === 'comma' || next.k === 'cmt' || next.k === 'semi' || next.v === 'from' || next.v === 'union' || next.k === 'rp';
  }
  if (first.v === 'case' || first.v === 'if') return true;
  if (first.k === 'fn') return operandEnd(t, j) !== -1;
  if (first.k === 'lp') return skipParens(t, j) > j + 1;
  if (first.k === 'word') {
    // A single column (or arithmetic on it: `login/2`) followed by FROM/comma/end is code; three
    // words in a row ("the best option") is prose.
    let w = j + 1;
    while (t[w]?.k === 'op' && BINARY_OPS.has(t[w]!.v)) {
      const p = primaryEnd(t, w + 1);
      if (p === -1) break;
      w = p;
    }
    const next = t[w];
    if (next === undefined || next.k === 'cmt' || next.k === 'semi') return true;
    if (next.k === 'comma') return isOperand(t[w + 1]);
    if (next.k === 'rp') return true;
    if (next.v === 'from') {
      const table = t[w + 1];
      const clause = t[w + 2];
      if (table === undefined || (table.k !== 'word' && table.k !== 'lp')) return false;
      if (clause === undefined || clause.k === 'cmt' || clause.k === 'semi' || clause.k === 'rp' || clause.v === 'union') return true;
      return ['where', 'limit', 'order', 'group'].includes(clause.v) && t[w + 3] !== undefined;
    }
    if (next.v === 'as' || next.k === 'dot') return true;
  }
  return false;
}

/** Operand or operator that only code writes (a literal, variable, call or symbol), unlike the words of prose. */
function isCodeToken(x: Tok): boolean {
  return x.k === 'num' || x.k === 'str' || x.k === 'var' || x.k === 'fn' || x.k === 'op' || x.v === 'null' || (x.k === 'cmp' && SYMBOL_CMP.has(x.v)) || x.v === '&&' || x.v === '||';
}

/**
 * After a closed literal, an operator and an expression that ends in a literal the application's
 * own closing quote (`quote`) completes: `x' = 'y`, `1' or '1' xor '0`, `aa' regexp- md5(1) or '1`.
 * The query stays valid without any comment. The trailing literal is one short token (`'1`), not
 * a phrase, and the expression has a literal or symbol in it: words joined by `and` between
 * quotes (`…calendar" and "disney`) are prose.
 */
function implicitExpression(t: readonly Tok[], j: number, quote: number): boolean {
  const last = t[t.length - 1]!;
  if (last.k !== 'str' || last.open !== quote || last.v.length > 24) return false;
  const b = binopEnd(t, j);
  if (b === -1 || expressionEnd(t, b) !== t.length) return false;
  const body = last.v.trimEnd();
  for (let i = 0; i < body.length; i++) if (isSpace(body.charCodeAt(i))) return false;
  // A lone operator between two quotes (`"*"`, `' = '`) is as likely a quoted symbol as code.
  if (t.length - j === 2 && body === '') return false;
  for (let i = j; i < t.length - 1; i++) if (isCodeToken(t[i]!)) return true;
  return false;
}

/**
 * Scans one token stream (one context) and reports what it finds. `from`: the stream is the whole
 * value, or follows a quote or `)` that may close the application's literal or group (a breakout);
 * `closer` = that quote character when it ends a word or starts the value (`x'…`, `'…`), as a
 * closing quote does, rather than opening a quotation (`the 'x' …`, `f('x')`); 0 otherwise.
 */
function scan(t: readonly Tok[], from: 'value' | 'quote' | 'paren', closer: number, report: Report): void {
  if (t.length === 0) return;
  const breakout = from !== 'value';
  // A literal broken out of and immediately commented away: `admin'--`, `x')#`.
  if (breakout) {
    let j = 0;
    while (t[j]?.k === 'rp') j++;
    const c = t[j];
    // `admin'--`, `x')#`: the quote ends a word, as a closing quote does ("soap 1 '#" opens a quotation).
    if (c !== undefined && c.k === 'cmt' && c.bare === true && (from === 'paren' || closer !== 0)) report('sqli-breakout-comment');
    if (c !== undefined && c.k === 'semi' && statementAt(t, j + 1)) report('sqli-stacked-query');
    if (t[j]?.k === 'logic') {
      const k = expressionEnd(t, j + 1);
      const after = k === -1 ? undefined : t[k];
      let p = unaryEnd(t, j + 1);
      while (t[p]?.k === 'lp') p = unaryEnd(t, p + 1);
      const operand = t[p];
      // `' or 1--`, `' and true#`, `' or sleep(5)`, `' and (benchmark(9,1))--`, `' or now()*0`: a
      // literal or call closing the condition. A word ("…\" and coffee") or an unclosed string
      // ("…\" and \"disney") is prose.
      if (k !== -1 && (after === undefined || after.k === 'cmt' || after.k === 'semi') && operand !== undefined && (operand.k === 'num' || operand.k === 'fn' || operand.v === 'true' || operand.v === 'false' || operand.v === 'null' || (operand.k === 'str' && !operand.open && after !== undefined))) {
        report('sqli-breakout-boolean');
      }
      if (operand?.k === 'fn' && RISKY_FUNCTIONS.has(operand.v)) report('sqli-function-call');
    }
    // A literal closed, some SQL, and the rest commented out: `x' collate nocase--`, `' notnull --`.
    const last = t[t.length - 1];
    if (last?.k === 'cmt' && last.bare === true && t.length <= 12 && t.slice(0, -1).some((x) => x.k === 'logic' || x.k === 'cmp' || x.k === 'kw' || x.k === 'fn')) report('sqli-breakout-comment');
    if (t[j]?.v === 'order' && t[j + 1]?.v === 'by' && t[j + 2]?.k === 'num') report('sqli-order-by-probe');
    if (t[j]?.v === 'group' && t[j + 1]?.v === 'by') report('sqli-order-by-probe');
    // `' having 1=1--`, `' procedure analyse()`, `' into outfile '…'`; "the 'close' procedure is…" is prose.
    if ((t[j]?.v === 'having' && (comparisonAt(t, j + 1) || isLiteral(operandAt(t, j + 1)))) || (t[j]?.v === 'procedure' && t[j + 1]?.v === 'analyse') || (t[j]?.v === 'into' && (t[j + 1]?.v === 'outfile' || t[j + 1]?.v === 'dumpfile'))) report('sqli-order-by-probe');
    if (statementAt(t, j) && t[j]!.v !== 'set') report('sqli-statement');
    if (closer !== 0 && implicitExpression(t, j, closer)) report('sqli-breakout-boolean');
    if ((t[j]?.k === 'op' && '+|-*/'.includes(t[j]!.v)) || t[j]?.k === 'cmp') {
      const k = operandEnd(t, j + 1);
      if (k !== -1 && t[j + 1]?.k === 'fn' && RISKY_FUNCTIONS.has(t[j + 1]!.v)) report('sqli-function-call');
    }
  }
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    // Prose is mostly plain names, none of which starts anything below (all these are reserved words, symbols or quoted).
    if (tok.plain) continue;
    if (tok.v === 'union') {
      let j = i + 1;
      while (t[j]?.v === 'all' || t[j]?.v === 'distinct' || t[j]?.k === 'lp') j++;
      if (t[j]?.v === 'select') report('sqli-union-select');
    } else if (tok.k === 'logic' && (breakout || i <= 3)) {
      // Outside a literal, the boolean must follow the value's first operand (`1 or 1=1`, `1) and (…`)
      // or start the value (`and 1=1`): comparisons deep inside code or prose ("if (x > 0 && y < 10)")
      // are not an injected condition. Prose like "x or y = z" compares two words (see comparisonAt).
      if (!breakout && i > 0 && !isOperand(t[i - 1]) && t[i - 1]!.k !== 'rp') continue;
      const lhs = operandAt(t, i + 1);
      if (comparisonAt(t, i + 1)) report('sqli-boolean-expression');
      else if (lhs?.k === 'fn' && RISKY_FUNCTIONS.has(lhs.v) && operandEnd(t, i + 1) !== -1) report('sqli-function-call');
      else if ((t[i + 1]?.k === 'lp' && t[i + 2]?.v === 'select') || (t[i + 1]?.v === 'select' && selectAt(t, i + 1))) report('sqli-boolean-expression');
    } else if (tok.k === 'semi' && statementAt(t, i + 1)) {
      report('sqli-stacked-query');
    } else if (tok.k === 'fn' && TIME_FUNCTIONS.has(tok.v) && isOperand(t[i + 2]) && t[i + 3]?.k !== undefined) {
      report('sqli-time-delay');
    } else if (tok.v === 'waitfor' && (t[i + 1]?.v === 'delay' || t[i + 1]?.v === 'time') && t[i + 2]?.k === 'str') {
      report('sqli-time-delay');
    } else if (tok.k === 'fn' && RISKY_FUNCTIONS.has(tok.v) && t[i + 2]?.k === 'fn' && RISKY_FUNCTIONS.has(t[i + 2]!.v)) {
      // Nested database functions: `concat(char(…))`, `ascii(substring(…))`.
      report('sqli-function-call');
    } else if (tok.v === 'select' && t[i - 1]?.k === 'lp' && selectAt(t, i) && (breakout || t[i - 2]?.k === 'cmp' || t[i - 2]?.k === 'logic' || t[i - 2]?.k === 'comma' || t[i - 2]?.k === 'lp' || selectIsCode(t, i))) {
      // A sub-select inside an expression or as the whole value: `1 rlike (select …)`, `and (select count(*) …)`,
      // `(select top 1 name from sysobjects)`; "(select one)" in a form's help text is not one.
      report('sqli-statement');
    } else if (tok.v === 'case' && (i === 0 || t[i - 1]!.k === 'lp' || t[i - 1]!.k === 'cmp' || t[i - 1]!.k === 'logic' || t[i - 1]!.k === 'comma') && caseAt(t, i)) {
      report('sqli-statement');
    } else if (tok.k === 'var' && tok.v.startsWith('@@') && i > 0 && (t[i - 1]!.k === 'lp' || t[i - 1]!.k === 'comma' || t[i - 1]!.k === 'cmp' || t[i - 1]!.k === 'logic' || t[i - 1]!.k === 'op')) {
      // A server variable (`@@version`, `@@hostname`) read inside an expression or call.
      report('sqli-function-call');
    } else if (tok.v === '::' && t[i - 1]?.k === 'rp' && t[i + 1]?.k === 'word') {
      // A call's result cast to a type (`starts_with(pass,'a')::int`): PostgreSQL error-based extraction.
      report('sqli-function-call');
    } else if ((tok.v === 'exec' || tok.v === 'execute') && /^(?:xp_|sp_|master\.)/.test(t[i + 1]?.v ?? '')) {
      // SQL Server's extended procedures (`exec master..xp_cmdshell 'dir'`), wherever they appear.
      report('sqli-statement');
    } else if (tok.v === 'into' && (t[i + 1]?.v === 'outfile' || t[i + 1]?.v === 'dumpfile')) {
      report('sqli-statement');
    }
  }
  if (statementAt(t, 0) && t[0]!.v !== 'set' && t[0]!.v !== 'begin') report('sqli-statement');
  // `1=1`, `'a'='a'`: a comparison of a literal with itself is only ever written to be always true.
  for (let i = 1; i + 1 < t.length; i++) {
    if (!t[i]!.plain && t[i]!.v === '=' && isLiteral(t[i - 1]) && t[i - 1]!.k === t[i + 1]!.k && t[i - 1]!.v === t[i + 1]!.v && !t[i + 1]!.open && (i === 1 || t[i - 2]!.k !== 'op')) {
      report('sqli-tautology');
      break;
    }
  }
  if (!breakout) numericTail(t, report);
}

/**
 * A numeric parameter (`-1`, `1*1`, `@v`) followed by what only SQL puts there: ORDER/GROUP BY
 * column probing (`1 order by 5`), a bare comment or `;` ending the query (`1--`, `1 and 1/*`), or
 * a UNION without its SELECT yet (`-1 union`, `-1 union 1,2,3--`).
 */
function numericTail(t: readonly Tok[], report: Report): void {
  const lead = operandAt(t, 0);
  if (lead === undefined || (lead.k !== 'num' && lead.k !== 'var')) return;
  const first = primaryEnd(t, 0);
  const e = expressionEnd(t, 0);
  if (e === -1) return;
  // `1 - ord('a')`, `1 || lpad(user,7,1)`: arithmetic on database functions. A lone `|` is how code
  // listings separate line numbers (`85 | if (…)`), not an operator.
  for (let k = first; k !== -1 && k < e; ) {
    const b = binopEnd(t, k);
    if (b === -1) break;
    const operand = operandAt(t, b);
    if (t[k]!.v !== '|' && operand?.k === 'fn' && RISKY_FUNCTIONS.has(operand.v) && t[unaryEnd(t, b) + 1]?.k === 'lp') {
      report('sqli-function-call');
      break;
    }
    k = primaryEnd(t, b);
  }
  const next = t[e];
  if (next === undefined) return;
  if ((next.v === 'order' || next.v === 'group') && t[e + 1]?.v === 'by' && (t[e + 2]?.k === 'num' || (t[e + 2]?.k === 'fn' && RISKY_FUNCTIONS.has(t[e + 2]!.v)))) report('sqli-order-by-probe');
  else if (e === t.length - 1 && ((next.k === 'cmt' && next.bare === true) || (next.k === 'semi' && e === first)) && !t.some((x) => x.k === 'word' || x.k === 'str')) report('sqli-breakout-comment');
  else if (next.v === 'union' && (t[e + 1] === undefined || t[e + 1]!.k === 'cmt' || (t[e + 1]!.k === 'num' && t[e + 2]?.k === 'comma'))) report('sqli-union-select');
}

/** `(select …)` at `i` whose list or clauses only code has: a number, variable, call or `*` first, or a FROM clause inside the parentheses. */
function selectIsCode(t: readonly Tok[], i: number): boolean {
  const first = operandAt(t, t[i + 1]?.v === 'top' ? i + 3 : i + 1);
  if (first === undefined || first.k !== 'word') return true;
  const end = skipParens(t, i - 1);
  for (let k = i + 2; k < end; k++) if (t[k]!.v === 'from') return true;
  return false;
}

/** `case [operand] when … then … end`: the whole conditional, not the English word "case". */
function caseAt(t: readonly Tok[], i: number): boolean {
  let j = i + 1;
  if (t[j]?.v !== 'when') j = operandEnd(t, j);
  if (j === -1 || t[j]?.v !== 'when') return false;
  let then = -1;
  for (let k = j + 1; k < t.length; k++) {
    if (t[k]!.v === 'then' && then === -1) then = k;
    else if (t[k]!.v === 'end' && then !== -1) return true;
  }
  return false;
}

/** The tokens of the value read from `start` on (see {@link tokenize}). */
interface Stream {
  readonly start: number;
  readonly tokens: readonly Tok[];
}

/** Text that some rule of the whole value's scan needs (see {@link valueScanMayReport}). */
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
/** Names whose call starts a rule of the whole value's scan: time delays, nested database functions. */
const CALLS_SCANNED = new Set([...TIME_FUNCTIONS, ...RISKY_FUNCTIONS]);
/** Verbs of {@link statementAt}. */
const VERBS = new Set(['select', 'insert', 'replace', 'update', 'delete', 'load', 'if', 'drop', 'create', 'alter', 'truncate', 'rename', 'exec', 'execute', 'declare', 'shutdown', 'waitfor', 'set', 'grant', 'begin']);
/** After `(` or `;`: a comment (whitespace to SQL) or a literal hide what the next token is; taken as anything. */
const HIDDEN_NEXT = new Set([47 /* / */, 42 /* * */, 45 /* - */, 35 /* # */, 39 /* ' */, 34 /* " */, 96 /* ` */]);

/** Index of the first character from `i` on that is not a SQL space. */
function skipSpaces(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** The name that starts at `i` as the tokeniser reads it (`''` when none does). */
function nameAt(s: string, i: number): string {
  const c = s.charCodeAt(i);
  if (!isWordStart(c) || c === 160 || c === 64) return '';
  let j = i + 1;
  while (j < s.length && isWordChar(s.charCodeAt(j)) && s.charCodeAt(j) !== 64) j++;
  return s.slice(i, s.charCodeAt(j - 1) === 46 ? j - 1 : j);
}

/**
 * True when the token before `end` may be a call in {@link CALLS_SCANNED}. A run of name characters
 * is one token, unless a digit, `.`, `@` or U+00A0 in it can cut it (`1sleep`): then every start in
 * it is tried.
 */
function scannedCallBefore(s: string, end: number): boolean {
  let b = end;
  let whole = true;
  while (b > 0 && isWordChar(s.charCodeAt(b - 1))) {
    b--;
    const c = s.charCodeAt(b);
    if (isDigit(c) || c === 46 || c === 64 || c === 160) whole = false;
  }
  if (whole) return b < end && CALLS_SCANNED.has(s.slice(b, end));
  for (let a = b; a < end; a++) if (CALLS_SCANNED.has(s.slice(a, end))) return true;
  return false;
}

/**
 * False when {@link scan} of the whole value (not a breakout) cannot report anything: its first
 * tokens are a plain name and no boolean operator (statements, numeric parameters and booleans
 * at the start), and the text has none of what its other rules need (a tautology's `=`, UNION,
 * WAITFOR, CASE, EXEC, INTO OUTFILE, `@@`, `::`, a time-delay or database function called, a
 * statement after `;`, a sub-select after `(`). Each condition is looser than its rule. Prose
 * passes, and then only the quote contexts are tokenised, not the whole value.
 */
function valueScanMayReport(s: string): boolean {
  const head = tokenize(s, 0, 4);
  if (head.length > 0 && (!head[0]!.plain || head[0]!.v === 'if')) return true;
  if (head.some((x) => x.k === 'logic')) return true;
  for (const text of VALUE_SCAN_TEXT) if (s.includes(text)) return true;
  for (let p = s.indexOf('('); p !== -1; p = s.indexOf('(', p + 1)) {
    const next = skipSpaces(s, p + 1);
    if (HIDDEN_NEXT.has(s.charCodeAt(next)) || nameAt(s, next) === 'select') return true;
    let before = p;
    while (before > 0 && isSpace(s.charCodeAt(before - 1))) before--;
    if (scannedCallBefore(s, before)) return true;
  }
  for (let p = s.indexOf(';'); p !== -1; p = s.indexOf(';', p + 1)) {
    const next = skipSpaces(s, p + 1);
    if (HIDDEN_NEXT.has(s.charCodeAt(next)) || VERBS.has(nameAt(s, next))) return true;
  }
  return false;
}

/** Up to this many quote characters are each tried as the point where the input leaves a literal. */
const BREAKOUT_TRIES = 2;

/**
 * Reports SQL injection rules for one normalised, lower-cased value.
 *
 * @example
 *   detectSql("' or 1=1--", report) // reports sqli-breakout-boolean, sqli-boolean-expression
 */
export function detectSql(value: string, report: Report): void {
  // Typographic and modifier apostrophes become `'` in databases that convert to a narrower charset.
  const lower = QUOTE_LIKE.test(value) ? value.replace(QUOTE_LIKE_ALL, "'") : value;
  const paren = lower.indexOf(')');
  // `)` breakouts from numeric sub-expressions: `1) or (1=1`.
  const parenStart = paren !== -1 && paren < 24 ? paren + 1 : -1;
  // The whole value's stream is needed when its scan can report, and reused by the `)` context.
  const wholeNeeded = parenStart !== -1 || valueScanMayReport(lower);
  const valueStart = lower.length - lower.trimStart().length;
  // Each quote tried as the point where the input leaves a literal: where its stream starts, and its closer (see scan).
  const tries: number[] = [];
  for (const q of ["'", '"', '`']) {
    let from = 0;
    for (let k = 0; k < BREAKOUT_TRIES; k++) {
      const at = lower.indexOf(q, from);
      if (at === -1) break;
      // A quote right after a letter or digit closes a literal (`1' = '1`); after `(`, `=` or a space it opens one.
      const closing = at === valueStart || isAlnum(lower.charCodeAt(at - 1));
      tries.push(at + 1, closing ? q.charCodeAt(0) : 0);
      from = at + 1;
    }
  }
  // Every stream runs to the end of the value, so they are read from the last start to the first:
  // one that reaches where a later one started takes the rest from it (the tries of `"a" or "b"`
  // meet, the whole value meets a try after its quoted literals). All starts differ (0, after distinct characters).
  const starts: number[] = [];
  for (let x = 0; x < tries.length; x += 2) starts.push(tries[x]!);
  if (parenStart !== -1) starts.push(parenStart);
  if (wholeNeeded) starts.push(0);
  const streams: (readonly Tok[])[] = [];
  const read: Stream[] = [];
  for (const x of starts.map((_, k) => k).sort((a, b) => starts[b]! - starts[a]!)) {
    const tokens = tokenize(lower, starts[x]!, MAX_TOKENS, read);
    streams[x] = tokens;
    read.push({ start: starts[x]!, tokens });
  }
  scan(wholeNeeded ? streams[starts.length - 1]! : [], 'value', 0, report);
  for (let x = 0; x < tries.length; x += 2) scan(streams[x / 2]!, 'quote', tries[x + 1]!, report);
  if (parenStart !== -1) scan(streams[tries.length / 2]!, 'paren', 0, report);
  // Every catalogue name has `_`, `sys` or `mysql` (`ql`) in it; `ys` is searched first, `y` being rarer than `s`.
  if ((lower.includes('_') || (lower.includes('ys') && lower.includes('sys')) || lower.includes('ql')) && CATALOG.test(lower)) report('sqli-catalog-object');
}
