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
  /** A string literal that the input leaves open (the application's own closing quote ends it). */
  readonly open?: boolean;
  /** For comments: nothing but whitespace follows the comment marker. */
  readonly bare?: boolean;
}

const KEYWORDS = new Set([
  'select', 'union', 'insert', 'update', 'delete', 'drop', 'create', 'alter', 'truncate', 'from', 'where',
  'not', 'null', 'having', 'group', 'order', 'by', 'limit', 'offset', 'into', 'values', 'set', 'exec',
  'execute', 'declare', 'case', 'when', 'then', 'else', 'end', 'as', 'join', 'on', 'all', 'distinct', 'table',
  'database', 'procedure', 'waitfor', 'delay', 'shutdown', 'grant', 'true', 'false', 'top', 'outfile',
  'dumpfile', 'analyse', 'begin', 'rename', 'load', 'replace', 'handler', 'asc', 'desc',
]);
const LOGIC = new Set(['and', 'or', 'xor', 'div', '&&', '||']);
const WORD_CMP = new Set(['like', 'rlike', 'regexp', 'is', 'in', 'between', 'sounds', 'glob', 'similar']);
const SYMBOL_CMP = new Set(['=', '<', '>', '<=', '>=', '<>', '!=', '<=>', '!<', '!>', ':=']);

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
]);
const TIME_FUNCTIONS = new Set(['sleep', 'benchmark', 'pg_sleep', 'dbms_lock.sleep', 'dbms_pipe.receive_message', 'get_lock']);
/** Catalogue objects only an attacker enumerating the schema names. */
const CATALOG = /\b(?:information_schema|mysql\.user|sysobjects|syscolumns|sys\.tables|sys\.objects|pg_catalog|pg_shadow|sqlite_master|all_tables|user_tables|msysobjects|master\.\.sysdatabases|pg_user)\b/;

const MAX_TOKENS = 400;

function isWordStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 64 /* @ */ || c === 36 /* $ */ || c > 127;
}
function isWordChar(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57) || c === 46 /* . */;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

/** Tokenises `s` from `start` (lower-cased input) into SQL tokens. Linear, bounded by MAX_TOKENS. */
function tokenize(s: string, start: number): Tok[] {
  const out: Tok[] = [];
  let i = start;
  const n = s.length;
  while (i < n && out.length < MAX_TOKENS) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // Comments: `-- `, `#`, `/* */`. MySQL executes `/*! … */` (versioned comments): read inside.
    if ((c === 45 && s.charCodeAt(i + 1) === 45) || c === 35) {
      const body = s.slice(i + (c === 35 ? 1 : 2));
      // `bare`: the comment only ends the query (`--`, `-- -`, `#`), it does not start prose ("-- very strange").
      out.push({ k: 'cmt', v: c === 35 ? '#' : '--', bare: body.trim().length <= 3 });
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
        out.push({ k: 'cmt', v: '/*', bare: true });
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
      // Quoted literal; doubled quotes and backslashes escape.
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (d === 92) {
          j += 2;
          continue;
        }
        if (d === c) {
          if (s.charCodeAt(j + 1) === c) {
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        j++;
      }
      out.push({ k: c === 96 ? 'word' : 'str', v: s.slice(i + 1, Math.min(j, n)), open: !closed });
      i = closed ? j + 1 : n;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(i + 1)))) {
      let j = i + 1;
      if (c === 48 && (s.charCodeAt(j) | 32) === 120) {
        j++;
        while (j < n && /[0-9a-f]/.test(s[j]!)) j++;
      } else {
        while (j < n && (isDigit(s.charCodeAt(j)) || s.charCodeAt(j) === 46 || s.charCodeAt(j) === 101)) j++;
      }
      // `1union`, `1e0union` are still a number followed by a keyword for MySQL.
      out.push({ k: 'num', v: s.slice(i, j) });
      i = j;
      continue;
    }
    if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(s.charCodeAt(j))) j++;
      let v = s.slice(i, j);
      if (v.endsWith('.')) v = v.slice(0, -1);
      let k: Kind;
      if (v.startsWith('@')) k = 'var';
      else if (LOGIC.has(v)) k = 'logic';
      else if (WORD_CMP.has(v)) k = 'cmp';
      else if (KEYWORDS.has(v)) k = 'kw';
      else {
        let p = j;
        while (p < n && isSpace(s.charCodeAt(p))) p++;
        k = s.charCodeAt(p) === 40 ? 'fn' : 'word';
      }
      out.push({ k, v });
      i = j;
      continue;
    }
    if (c === 40) out.push({ k: 'lp', v: '(' });
    else if (c === 41) out.push({ k: 'rp', v: ')' });
    else if (c === 44) out.push({ k: 'comma', v: ',' });
    else if (c === 59) out.push({ k: 'semi', v: ';' });
    else {
      const two = s.slice(i, i + 2);
      const three = s.slice(i, i + 3);
      if (three === '<=>') {
        out.push({ k: 'cmp', v: three });
        i += 3;
        continue;
      }
      if (two === '||' || two === '&&') {
        out.push({ k: 'logic', v: two });
        i += 2;
        continue;
      }
      if (SYMBOL_CMP.has(two)) {
        out.push({ k: 'cmp', v: two });
        i += 2;
        continue;
      }
      const one = s[i]!;
      out.push({ k: SYMBOL_CMP.has(one) ? 'cmp' : 'op', v: one });
    }
    i++;
  }
  return out;
}

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

/** Reads one operand at `i` (unary minus, function call with arguments, parenthesised sub-select): returns the index after it or -1. */
function operandEnd(t: readonly Tok[], i: number): number {
  let j = i;
  while (t[j]?.k === 'op' && (t[j]!.v === '-' || t[j]!.v === '+' || t[j]!.v === '!' || t[j]!.v === '~')) j++;
  if (t[j]?.v === 'not') j++;
  const tok = t[j];
  if (tok === undefined) return -1;
  if (tok.k === 'fn') return skipParens(t, j + 1);
  if (tok.k === 'lp') return t[j + 1]?.v === 'select' || isOperand(t[j + 1]) || t[j + 1]?.k === 'lp' ? skipParens(t, j) : -1;
  if (tok.v === 'select') return j + 1;
  if (isOperand(tok)) {
    // `a.b`, arithmetic chains: `1+1`, `2-1`.
    let e = j + 1;
    while (t[e]?.k === 'op' && '+-*/%^|&'.includes(t[e]!.v) && isOperand(t[e + 1])) e += 2;
    return e;
  }
  return -1;
}

/** Statement that can follow `;` or start a value: verb plus the grammar that must follow it. */
function statementAt(t: readonly Tok[], i: number): boolean {
  const a = t[i];
  const b = t[i + 1];
  const c = t[i + 2];
  if (a === undefined) return false;
  switch (a.v) {
    case 'select':
      return selectAt(t, i);
    case 'insert':
    case 'replace':
      return b?.v === 'into' && (c?.k === 'word' || c?.k === 'kw' || c?.k === 'fn');
    case 'update':
      return (b?.k === 'word' || b?.k === 'kw') && t[i + 2]?.v === 'set';
    case 'delete':
      return b?.v === 'from' && c !== undefined;
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
  if (t[j]?.v === 'distinct' || t[j]?.v === 'all' || t[j]?.v === 'top') j++;
  const first = t[j];
  if (first === undefined) return false;
  if (first.v === '*' || first.k === 'var') return true;
  if (first.k === 'num' || first.k === 'str' || first.v === 'null') {
    // `select 1,2,3`, `select 'a' from`, `select null--`; a lone quoted word ("select 'and'") is prose.
    const next = t[j + 1];
    return next === undefined ? first.k === 'num' : next.k === 'comma' || next.k === 'cmt' || next.k === 'semi' || next.v === 'from' || next.v === 'union' || next.k === 'rp';
  }
  if (first.v === 'case' || first.v === 'if') return true;
  if (first.k === 'fn') return operandEnd(t, j) !== -1;
  if (first.k === 'lp') return skipParens(t, j) > j + 1;
  if (first.k === 'word') {
    // A single column followed by FROM/comma/end is code; three words in a row ("the best option") is prose.
    const next = t[j + 1];
    if (next === undefined || next.k === 'cmt' || next.k === 'semi') return true;
    if (next.k === 'comma') return isOperand(t[j + 2]);
    if (next.k === 'rp') return true;
    if (next.v === 'from') {
      const table = t[j + 2];
      const clause = t[j + 3];
      if (table === undefined || (table.k !== 'word' && table.k !== 'lp')) return false;
      if (clause === undefined || clause.k === 'cmt' || clause.k === 'semi' || clause.k === 'rp' || clause.v === 'union') return true;
      return ['where', 'limit', 'order', 'group'].includes(clause.v) && t[j + 4] !== undefined;
    }
    if (next.v === 'as' || next.k === 'dot') return true;
  }
  return false;
}

/** Scans one token stream (one context) and reports what it finds. `breakout` = the stream follows a closed literal. */
function scan(t: readonly Tok[], breakout: boolean, report: Report): void {
  if (t.length === 0) return;
  // A literal broken out of and immediately commented away: `admin'--`, `x')#`.
  if (breakout) {
    let j = 0;
    while (t[j]?.k === 'rp') j++;
    const c = t[j];
    if (c !== undefined && c.k === 'cmt' && c.bare === true) report('sqli-breakout-comment');
    if (c !== undefined && c.k === 'semi' && statementAt(t, j + 1)) report('sqli-stacked-query');
    if (t[j]?.k === 'logic') {
      const k = operandEnd(t, j + 1);
      const after = k === -1 ? undefined : t[k];
      const operand = t[j + 1]?.v === 'not' ? t[j + 2] : t[j + 1];
      // `' or 1--`, `' and true#`, `' or sleep(5)`: a literal or call closing the condition. A word
      // ("…\" and coffee") or an unclosed string ("…\" and \"disney") is prose.
      if (k !== -1 && (after === undefined || after.k === 'cmt' || after.k === 'semi') && operand !== undefined && (operand.k === 'num' || operand.k === 'fn' || operand.v === 'true' || operand.v === 'null' || (operand.k === 'str' && !operand.open && after !== undefined))) {
        report('sqli-breakout-boolean');
      }
      if (operand?.k === 'fn' && RISKY_FUNCTIONS.has(operand.v)) report('sqli-function-call');
    }
    // A literal closed, some SQL, and the rest commented out: `x' collate nocase--`, `' notnull --`.
    const last = t[t.length - 1];
    if (last?.k === 'cmt' && last.bare === true && t.length <= 12 && t.slice(0, -1).some((x) => x.k === 'logic' || x.k === 'cmp' || x.k === 'kw' || x.k === 'fn')) report('sqli-breakout-comment');
    if (t[j]?.v === 'order' && t[j + 1]?.v === 'by' && t[j + 2]?.k === 'num') report('sqli-order-by-probe');
    if (t[j]?.v === 'group' && t[j + 1]?.v === 'by') report('sqli-order-by-probe');
    if (t[j]?.v === 'having' || t[j]?.v === 'procedure' || (t[j]?.v === 'into' && (t[j + 1]?.v === 'outfile' || t[j + 1]?.v === 'dumpfile'))) report('sqli-order-by-probe');
    if (statementAt(t, j) && t[j]!.v !== 'set') report('sqli-statement');
    if ((t[j]?.k === 'op' && '+|-*/'.includes(t[j]!.v)) || t[j]?.k === 'cmp') {
      const k = operandEnd(t, j + 1);
      if (k !== -1 && t[j + 1]?.k === 'fn' && RISKY_FUNCTIONS.has(t[j + 1]!.v)) report('sqli-function-call');
    }
  }
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    if (tok.v === 'union') {
      let j = i + 1;
      if (t[j]?.v === 'all' || t[j]?.v === 'distinct') j++;
      while (t[j]?.k === 'lp') j++;
      if (t[j]?.v === 'select') report('sqli-union-select');
    } else if (tok.k === 'logic' && (breakout || (i > 0 && i <= 3))) {
      // Outside a literal, the boolean must follow the value's first operand (`1 or 1=1`, `1) and (…`):
      // comparisons deep inside code or prose ("if (x > 0 && y < 10)") are not an injected condition.
      // Boolean expression with a comparison: `or 1=1`, `and 'a'='a'`, `or x like '%'`, `and (select …)`.
      const a = operandEnd(t, i + 1);
      if (a === -1) continue;
      const lhs = t[i + 1]!.v === 'not' ? t[i + 2] : t[i + 1];
      const cmp = t[a];
      if (cmp?.k === 'cmp') {
        let b = a + 1;
        if (cmp.v === 'not' || t[b]?.v === 'not') b++;
        if (cmp.v === 'is' && t[b]?.v === 'not') b++;
        const rhsEnd = operandEnd(t, b);
        const rhs = t[b];
        if (rhsEnd !== -1 && rhs !== undefined) {
          const codeLike = isLiteral(lhs) || isLiteral(rhs) || lhs?.k === 'fn' || rhs?.k === 'fn' || lhs?.k === 'lp' || rhs?.k === 'lp' || lhs?.k === 'var' || (lhs?.v === rhs.v && lhs?.k === 'word');
          // Prose like "x or y = z" compares two words; code compares literals, calls and sub-selects.
          if (codeLike && (breakout || isOperand(t[i - 1]) || t[i - 1]?.k === 'rp')) report('sqli-boolean-expression');
        }
      } else if (lhs?.k === 'fn' && RISKY_FUNCTIONS.has(lhs.v) && (breakout || isOperand(t[i - 1]) || t[i - 1]?.k === 'rp')) {
        report('sqli-function-call');
      } else if (t[i + 1]?.k === 'lp' && t[i + 2]?.v === 'select') {
        report('sqli-boolean-expression');
      }
    } else if (tok.k === 'semi' && statementAt(t, i + 1)) {
      report('sqli-stacked-query');
    } else if (tok.k === 'fn' && TIME_FUNCTIONS.has(tok.v) && isOperand(t[i + 2]) && t[i + 3]?.k !== undefined) {
      report('sqli-time-delay');
    } else if (tok.v === 'waitfor' && (t[i + 1]?.v === 'delay' || t[i + 1]?.v === 'time') && t[i + 2]?.k === 'str') {
      report('sqli-time-delay');
    } else if (tok.k === 'fn' && RISKY_FUNCTIONS.has(tok.v) && t[i + 2]?.k === 'fn' && RISKY_FUNCTIONS.has(t[i + 2]!.v)) {
      // Nested database functions: `concat(char(…))`, `ascii(substring(…))`.
      report('sqli-function-call');
    } else if (tok.v === 'select' && t[i - 1]?.k === 'lp' && selectAt(t, i) && (breakout || t[i - 2]?.k === 'cmp' || t[i - 2]?.k === 'logic' || t[i - 2]?.k === 'comma' || t[i - 2]?.k === 'lp')) {
      // A sub-select inside an expression: `1 rlike (select …)`, `and (select count(*) …)`.
      report('sqli-statement');
    } else if (tok.v === 'into' && (t[i + 1]?.v === 'outfile' || t[i + 1]?.v === 'dumpfile')) {
      report('sqli-statement');
    }
  }
  if (statementAt(t, 0) && t[0]!.v !== 'set' && t[0]!.v !== 'begin') report('sqli-statement');
  // `1=1`, `'a'='a'`: a comparison of a literal with itself is only ever written to be always true.
  for (let i = 1; i + 1 < t.length; i++) {
    if (t[i]!.v === '=' && isLiteral(t[i - 1]) && t[i - 1]!.k === t[i + 1]!.k && t[i - 1]!.v === t[i + 1]!.v && !t[i + 1]!.open && (i === 1 || t[i - 2]!.k !== 'op')) {
      report('sqli-tautology');
      break;
    }
  }
  // `1 order by 5--`, `-1 group by 1` on a numeric parameter.
  if (t[0]?.k === 'num' && (t[1]?.v === 'order' || t[1]?.v === 'group') && t[2]?.v === 'by' && t[3] !== undefined && t[t.length - 1]?.k === 'cmt') report('sqli-order-by-probe');
  if (t[0]?.k === 'num' && t[1]?.k === 'semi' && t[2] === undefined) report('sqli-breakout-comment');
}

/** Up to this many quote characters are each tried as the point where the input leaves a literal. */
const BREAKOUT_TRIES = 2;

/**
 * Reports SQL injection rules for one normalised, lower-cased value.
 *
 * @example
 *   detectSql("' or 1=1--", report) // reports sqli-breakout-boolean, sqli-boolean-expression
 */
export function detectSql(lower: string, report: Report): void {
  scan(tokenize(lower, 0), false, report);
  for (const q of ["'", '"', '`']) {
    let from = 0;
    for (let k = 0; k < BREAKOUT_TRIES; k++) {
      const at = lower.indexOf(q, from);
      if (at === -1) break;
      scan(tokenize(lower, at + 1), true, report);
      from = at + 1;
    }
  }
  // `)` breakouts from numeric sub-expressions: `1) or (1=1`.
  const paren = lower.indexOf(')');
  if (paren !== -1 && paren < 24) scan(tokenize(lower, paren + 1), true, report);
  if (CATALOG.test(lower)) report('sqli-catalog-object');
}
