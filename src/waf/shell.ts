/**
 * OS command injection: the input is read as a shell would read it after the application pastes it
 * into a command line. Quote-splitting (`c'a't`), backslashes, `${IFS}` and brace expansion are
 * undone; the input is cut at shell separators; a segment that starts with a command and has the
 * shape of an invocation is an injection. Words like "type", "id" or "sort" are only commands when
 * what follows looks like arguments (`-l`, `/path`) or nothing at all.
 */
import type { Report } from './rules.js';
import { isRegexSpace, isRegexWord, siteWords, sitesIn, spacesBack, spacesForward, wordBeforeIn, wordForward, WordSet } from './sites.js';

/** Commands that are not everyday words: their appearance after a separator is enough. */
const DISTINCT = new Set([
  'whoami', 'uname', 'wget', 'curl', 'nc', 'ncat', 'netcat', 'bash', 'sh', 'zsh', 'ksh', 'csh', 'tcsh', 'dash',
  'busybox', 'python', 'python2', 'python3', 'perl', 'ruby', 'php', 'node', 'lua', 'nslookup', 'dig', 'ifconfig',
  'ipconfig', 'netstat', 'chmod', 'chown', 'passwd', 'useradd', 'usermod', 'crontab', 'nohup', 'telnet', 'ssh',
  'scp', 'tftp', 'rsync', 'base64', 'xxd', 'hexdump', 'systeminfo', 'tasklist', 'taskkill', 'certutil',
  'bitsadmin', 'powershell', 'pwsh', 'cmd', 'wmic', 'regsvr32', 'rundll32', 'mshta', 'cscript', 'wscript',
  'nmap', 'socat', 'xterm', 'sudo', 'awk', 'gawk', 'sed', 'grep', 'egrep', 'fgrep', 'cat', 'ls', 'pwd', 'printenv',
  'ping', 'traceroute', 'rm', 'mkdir', 'rmdir', 'chattr', 'openssl', 'mkfifo', 'killall', 'pkill', 'uptime',
  'hostname', 'dmesg', 'whereis', 'xargs', 'gcc', 'javac', 'java', 'jrunscript', 'msiexec', 'net', 'net1', 'sc',
  'vssadmin', 'icacls', 'schtasks', 'reg', 'ftp', 'lsof', 'getent', 'tac', 'nl', 'od', 'strings', 'bzip2', 'gzip',
  'zcat', 'id', 'env', 'echo', 'ps', 'uname', 'sleep', 'timeout', 'chgrp', 'expr', 'eval', 'exec', 'rev', 'wc',
]);
/** Commands that are also ordinary words: they need argument-shaped context to count. */
const WORDLIKE = new Set(['id', 'env', 'echo', 'ps', 'sleep', 'timeout', 'set', 'type', 'more', 'less', 'head', 'tail', 'find', 'sort', 'dir', 'kill', 'time', 'who', 'w', 'last', 'top', 'cut', 'file', 'date', 'tee', 'write', 'mail', 'test', 'exit', 'print', 'tar', 'zip', 'cp', 'mv', 'ln', 'touch', 'net', 'sc', 'reg', 'ftp', 'eval', 'exec', 'expr', 'rev', 'wc', 'nl', 'od', 'strings', 'java', 'node', 'cat', 'ls', 'php', 'dig', 'sed', 'ruby', 'python', 'perl', 'ping', 'sh', 'ssh', 'rm', 'grep', 'awk', 'curl', 'wget', 'nc', 'lua']);
/** Every command of either list. */
const COMMANDS = new WordSet([...DISTINCT, ...WORDLIKE]);

const SHELL_PATH = /(?:^|[\s;|&`(=<>'"])\/(?:usr\/local\/|usr\/)?s?bin\/[a-z][\w.+-]*(?=$|[\s;|&`)<>'"])/;
const WINDOWS_EXEC = /\b(?:cmd(?:\.exe)?\s*\/[ck]\b|powershell(?:\.exe)?\s+-|pwsh\s+-|invoke-(?:expression|webrequest|command)\b|\biex\s*\(|downloadstring\s*\(|%comspec%|start-process\b|new-object\s+(?:system\.)?net\.webclient)/;

/*
 * Where the patterns below can match (see sites.ts): a quote inside a word, a letter between quotes,
 * a command name first in a segment, the words before `-`, `/` and `(` that WINDOWS_EXEC needs.
 */
function isLetter(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** `c'a't`: a quote between two letters. */
function quoteInWord(s: string, p: number): boolean {
  return isLetter(s.charCodeAt(p - 1)) && isLetter(s.charCodeAt(p + 1));
}

/**
 * The indexes of the quotes (`'` and `"`) of a string, in order. Each kind is searched for natively
 * and only from its own last occurrence: searching for both kinds from every quote would rescan
 * the text up to the farther kind each time.
 */
function quotesOf(s: string): number[] {
  const out: number[] = [];
  let single = s.indexOf("'");
  let double = s.indexOf('"');
  while (single !== -1 || double !== -1) {
    if (single !== -1 && (double === -1 || single < double)) {
      out.push(single);
      single = s.indexOf("'", single + 1);
    } else {
      out.push(double);
      double = s.indexOf('"', double + 1);
    }
  }
  return out;
}

/** `[a-z0-9/.]`: what the backslash pass of unshell needs on either side of what it removes. */
function isPathChar(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57) || c === 47 || c === 46;
}

/**
 * `''` or `""` between two of `[a-z0-9/.]` in the string whose quotes are `quotes`: where the
 * backslash pass of unshell can remove a pair of quotes. Prose and code quote empty strings
 * (`!== ""`) after a space or `=`, where it removes nothing.
 */
function pairInWord(s: string, quotes: readonly number[]): boolean {
  for (const p of quotes) if (s.charCodeAt(p + 1) === s.charCodeAt(p) && isPathChar(s.charCodeAt(p - 1)) && isPathChar(s.charCodeAt(p + 2))) return true;
  return false;
}

/** A `{` before a character of `[\w./-]`: where the brace pass of unshell can match (`{cat,/etc/passwd}`; a block `{ … }` is not). */
function braceList(s: string): boolean {
  for (let p = s.indexOf('{'); p !== -1; p = s.indexOf('{', p + 1)) {
    const c = s.charCodeAt(p + 1);
    if (isRegexWord(c) || c === 46 || c === 47 || c === 45) return true;
  }
  return false;
}

/**
 * `s` without the quotes between two letters (`c'a't` → `cat`): `s.replace(/([a-z])['"](?=[a-z])/g, '$1')`
 * without its scan of the whole value; `quotes` are the quotes of `s`. The pieces between the
 * dropped quotes are joined in one copy.
 */
function dropQuotesInWords(s: string, quotes: readonly number[]): string {
  const pieces: string[] = [];
  let from = 0;
  for (const p of quotes) {
    if (quoteInWord(s, p)) {
      pieces.push(s.slice(from, p));
      from = p + 1;
    }
  }
  if (from === 0) return s;
  pieces.push(s.slice(from));
  return pieces.join('');
}

/** `'a'`: some letter between two quotes, in the string whose quotes are `quotes`. */
function quotedLetter(s: string, quotes: readonly number[]): boolean {
  for (const p of quotes) {
    const c = s.charCodeAt(p + 2);
    if (isLetter(s.charCodeAt(p + 1)) && (c === 39 || c === 34)) return true;
  }
  return false;
}

/** The characters that start a cut between segments (see {@link Cuts}); `;` first. */
const CUT_STARTS = [';', '|', '&', '\r', '\n', '$(', '`'];

/**
 * The cuts between the shell segments of a value, in order, exactly where
 * `s.split(/;|\|\|?|&&?|\r|\n|\$\(|`|\)\s*;/)` cuts: `;`, `|` or `||`, `&` or `&&`, CR, LF, `$(`,
 * a backtick, and `)` with the `\s` run and the `;` after it as one cut. Each kind is searched for
 * natively, again only once the scan has passed its last occurrence; the regular expression would
 * try all eight alternatives at every character of the value.
 *
 * Why the cuts are the same: a split takes, from where the last cut ended, the leftmost match, and
 * at one index only one alternative can match (they start with different characters). Here the
 * cut that starts first is taken, and a `;` starts its cut at the `)` before it (across `\s`) when
 * there is one after the last cut: `)\s*;` can only match at such a `)`, the `;` it ends with is
 * the first after the `)` (`\s` is not `;`), and its `)` comes before any CR or LF in its `\s`
 * run, so it wins over them as it does in the regular expression.
 */
class Cuts {
  /** The next occurrence of each of {@link CUT_STARTS} (-1: none left). */
  private readonly next: number[];
  /** The cut found last: `s[start, end)`. */
  start = 0;
  end = 0;

  /** `dollar`: whether `s` may have a `$` (false: `$(` is not searched for). */
  constructor(
    readonly s: string,
    dollar: boolean,
  ) {
    this.next = CUT_STARTS.map((c) => (c === '$(' && !dollar ? -1 : s.indexOf(c)));
  }

  /** Finds the next cut from the end of the last; false when there is none. */
  advance(): boolean {
    const { s, next, end: from } = this;
    let first = -1;
    let kind = -1;
    for (let k = 0; k < CUT_STARTS.length; k++) {
      let p = next[k]!;
      if (p !== -1 && p < from) p = next[k] = s.indexOf(CUT_STARTS[k]!, from);
      if (p === -1) continue;
      if (k === 0) {
        const spaces = spacesBack(s, p);
        if (spaces - 1 >= from && s.charCodeAt(spaces - 1) === 41 /* ) */) p = spaces - 1;
      }
      if (first === -1 || p < first) {
        first = p;
        kind = k;
      }
    }
    if (first === -1) return false;
    const at = next[kind]!;
    this.start = first;
    // `||` and `&&` are one cut; the rest are their start (a `;` ends its `)\s*;`).
    this.end = at + ((kind === 1 || kind === 2) && s.charCodeAt(at + 1) === s.charCodeAt(at) ? 2 : CUT_STARTS[kind]!.length);
    return true;
  }
}
const WINDOWS_DASHED = new WordSet(['powershell', 'exe', 'pwsh', 'invoke', 'start', 'new']);
const WINDOWS_SLASHED_WORDS = ['cmd', 'exe'];
const WINDOWS_SLASHED = new WordSet(WINDOWS_SLASHED_WORDS);
const WINDOWS_CALLS = siteWords('call', ['iex', 'downloadstring']);

/**
 * False when the first word of the segment `s[from, to)` cannot be a known command, read as
 * commandAt reads it: a word without `=` (no assignment before it) or `/` (no path) is its own
 * command name. A word with a quote may be one too, read in a value whose quotes between letters
 * are still to be dropped (see {@link quiet}).
 */
function mayInvoke(s: string, from: number, to: number): boolean {
  let i = from;
  while (i < to && (isRegexSpace(s.charCodeAt(i)) || s.charCodeAt(i) === 40 /* ( */)) i++;
  let j = i;
  while (j < to && !isRegexSpace(s.charCodeAt(j))) {
    const c = s.charCodeAt(j);
    if (c === 61 /* = */ || c === 47 /* / */ || c === 39 || c === 34) return true;
    j++;
  }
  if (i === to || !isLetter(s.charCodeAt(i))) return false;
  // The name is `^[a-z][\w.+-]*` of the word.
  let e = i + 1;
  while (e < j && (isRegexWord(s.charCodeAt(e)) || s.charCodeAt(e) === 46 || s.charCodeAt(e) === 43 || s.charCodeAt(e) === 45)) e++;
  // The command is the name without `.exe`; only a word of a command's shape is copied out and looked up.
  return COMMANDS.hasAt(s, i, e - i >= 4 && s.startsWith('.exe', e - 4) ? e - 4 : e);
}

/** A word and option flags first in a segment: `perf --version`, `x -la`. */
const OPTIONS_AFTER_WORD = /^\s*[a-z][\w.-]{1,30}\s+(?:--[a-z][\w-]+|-[a-z]{1,3})(?:\s|=|$)/;

/**
 * False when OPTIONS_AFTER_WORD cannot match the segment `s[from, to)`: its first word (the whole
 * run of `[\w.-]`, as `\s+` must follow it) is not followed by spaces and a `-`. Read in place: most
 * segments of prose fail at their first word, without being copied out. Quotes are read as part of
 * the word: in a value whose quotes between letters are still to be dropped (see {@link quiet}),
 * the word may go on after one.
 */
function mayTakeOption(s: string, from: number, to: number): boolean {
  let i = from;
  while (i < to && isRegexSpace(s.charCodeAt(i))) i++;
  if (i === to || !isLetter(s.charCodeAt(i))) return false;
  let e = i + 1;
  for (let c = s.charCodeAt(e); e < to && (isRegexWord(c) || c === 46 || c === 45 || c === 39 || c === 34); c = s.charCodeAt(++e));
  let k = e;
  while (k < to && isRegexSpace(s.charCodeAt(k))) k++;
  return k > e && k < to && s.charCodeAt(k) === 45 /* - */;
}

/**
 * Undoes shell quoting tricks so `c'a't /e"t"c/pa\sswd` reads as `cat /etc/passwd`. Each pass runs
 * only when its character is present (`dollar`, `backslash`: whether `input` has `$`, `\`);
 * `quotes` are the quotes of `input`, found again only after a pass that changed the text.
 */
function unshell(input: string, dollar: boolean, backslash: boolean, quotes: readonly number[]): string {
  let s = input;
  let q = quotes;
  if (dollar) {
    s = s.replace(/\$\{ifs\}|\$ifs(?:\$\d)?|\$\{ifs%\?\?\}/g, ' ').replace(/\$@|\$\*|\$\d|\$\{\d\}/g, '');
    if (s !== input) q = quotesOf(s);
  }
  // The `$` pass removes no backslash (its patterns have none), so `backslash` still holds for `s`.
  if (backslash || pairInWord(s, q)) {
    const t = s.replace(/([a-z0-9/.])(?:''|""|\\(?=[a-z/]))(?=[a-z0-9/.])/g, '$1');
    if (t !== s) q = quotesOf(t);
    s = t;
  }
  s = dropQuotesInWords(s, q);
  if (braceList(s)) s = s.replace(/\{([\w./-]+),([^{}\s]{1,200})\}/g, '$1 $2');
  return s;
}

/** The word a segment runs: basename of a path, after leading env assignments (`X=1 cmd`). */
function commandAt(seg: string): { cmd: string; rest: string } | undefined {
  let rest = seg.trimStart();
  for (let i = 0; i < 8; i++) {
    const sp = rest.search(/\s/);
    const word = sp === -1 ? rest : rest.slice(0, sp);
    if (!/^[a-z_]\w*=/.test(word)) break;
    rest = sp === -1 ? '' : rest.slice(sp).trimStart();
  }
  const sp = rest.search(/\s/);
  const word = sp === -1 ? rest : rest.slice(0, sp);
  const m = /^[a-z][\w.+-]*/.exec(word.slice(word.lastIndexOf('/') + 1));
  if (m === null || (word.includes('/') && !/^[\w./-]+$/.test(word))) return undefined;
  let cmd = m[0];
  if (cmd.endsWith('.exe')) cmd = cmd.slice(0, -4);
  return { cmd, rest: word.slice(word.lastIndexOf('/') + 1 + m[0].length) + (sp === -1 ? '' : rest.slice(sp)) };
}

/** True when `rest` (what follows a command word) has the shape of shell arguments. */
function argumentShaped(rest: string): boolean {
  const r = rest.replace(/[)`\s]+$/, '').trimStart();
  if (r === '') return true;
  if (/^[a-z]+:\/\//.test(r)) return true;
  return /^(?:-{1,2}[a-z0-9]|\/|\.{1,2}\/|~|\$|>|<|\||&|;|`|\d+\s*$|[a-z0-9.-]+\.(?:com|net|org|io|sh|txt|php|py|pl|exe|bat|ps1)\b|%[a-z])/.test(r);
}

function invocation(seg: string): boolean {
  const c = commandAt(seg.replace(/^[\s(]+/, ''));
  if (c === undefined) return false;
  if (!DISTINCT.has(c.cmd) && !WORDLIKE.has(c.cmd)) return false;
  if (WORDLIKE.has(c.cmd)) return argumentShaped(c.rest);
  // Distinct commands still need to end the segment or take arguments: "curl is great" is prose.
  return argumentShaped(c.rest) || /^\s+[a-z0-9'"]/.test(c.rest) && !/^\s+(?:is|was|are|and|or|the|a|an|of|to|in|for|with|on|at|by)\b/.test(c.rest);
}

/**
 * A walk over the segments of `s` after a separator (the 2nd to the 64th pieces of `s` split at its
 * cuts, see {@link Cuts}) that stops at each that may run a command: its first word may be a
 * command (mayInvoke), or may be followed by option flags (a `-` in the segment, then
 * mayTakeOption).
 */
class Segments extends Cuts {
  /** The first `-` not before the segment under inspection (-1: none left): most segments have none, and one search answers for all. */
  private dash: number;
  /** Segments passed, the first (before any separator) included. */
  private count = 1;
  private more: boolean;
  /** Whether the walk stands at a segment found by {@link find}: `s[from, to)`, `invokes` and `options` say what it may do. */
  at = false;
  from = 0;
  to = 0;
  invokes = false;
  options = false;

  /** `dollar`: whether `s` may have a `$`. */
  constructor(s: string, dollar: boolean) {
    super(s, dollar);
    this.dash = s.indexOf('-');
    this.more = this.advance();
  }

  /** Moves to the next segment that may run a command; false when there is none. */
  find(): boolean {
    const { s } = this;
    while (this.more && this.count < 64) {
      this.count++;
      const from = this.end;
      this.more = this.advance();
      const to = this.more ? this.start : s.length;
      if (this.dash !== -1 && this.dash < from) this.dash = s.indexOf('-', from);
      this.invokes = mayInvoke(s, from, to);
      this.options = this.dash !== -1 && this.dash < to && mayTakeOption(s, from, to);
      if (this.invokes || this.options) {
        this.from = from;
        this.to = to;
        return (this.at = true);
      }
    }
    return (this.at = false);
  }
}

/**
 * The first segment of the walk, from the one it stands at (if any), that runs a command:
 * invocation or OPTIONS_AFTER_WORD agrees with what the walk found it may do. Undefined when there
 * is none.
 */
function commandSegment(walk: Segments): string | undefined {
  for (let found = walk.at || walk.find(); found; found = walk.find()) {
    const segment = walk.s.slice(walk.from, walk.to);
    if ((walk.invokes && invocation(segment)) || (walk.options && OPTIONS_AFTER_WORD.test(segment))) return segment;
  }
  return undefined;
}

/** The words before a `/` of SHELL_PATH (`/bin/`, `/usr/sbin/`) and of WINDOWS_EXEC (`cmd /c`, `cmd.exe /c`). */
const SLASHED = new WordSet(['bin', 'sbin', ...WINDOWS_SLASHED_WORDS]);

/**
 * True when a quote between letters, of the quotes `quotes` of `s`, joins letters before it to a
 * word that ends before a `/`, `-` or `(` (spaces allowed): `power'shell -`. Dropped, it would make
 * that word another than the word there in `s`.
 */
function joinsWordBeforeSite(s: string, quotes: readonly number[]): boolean {
  for (const p of quotes) {
    if (!quoteInWord(s, p)) continue;
    const c = s.charCodeAt(spacesForward(s, wordForward(s, p + 1)));
    if (c === 47 /* / */ || c === 45 /* - */ || c === 40 /* ( */) return true;
  }
  return false;
}

/**
 * True when detectShell has nothing to report on `lower`, a value without `$` or `\` whose quotes
 * are `quotes`: read in `lower` itself, without undoing its quoting, the copy that most prose (an
 * apostrophe: `o'brien`) would need, nor the passes of unshell over the whole value.
 *
 * Why `lower` answers for the unshelled value: without `$`, `\`, a pair of quotes in a word
 * ({@link pairInWord}) or a brace list, unshell only drops the quotes between letters. Without a
 * letter between quotes, cmd-obfuscation's pattern cannot match; without `%`, SHELL_PATH and
 * WINDOWS_EXEC need a word before `/`, `-` or `(`. A dropped quote is no cut, and none is dropped
 * next to one, so the segments are the same; each word is the word at the same place in `lower`,
 * unless a dropped quote is in it: the first word of a segment is then read as a command by
 * mayInvoke and mayTakeOption, and a word before `/`, `-` or `(` is ruled out by
 * {@link joinsWordBeforeSite}. The callees are those of every detector's call sites (sites.ts).
 * `walk`: a new walk over the segments of `lower`, left where the screen stopped.
 */
function quiet(lower: string, quotes: readonly number[], walk: Segments): boolean {
  // A command after a separator first: the likeliest find in an attack.
  return (
    !walk.find() &&
    !pairInWord(lower, quotes) &&
    !quotedLetter(lower, quotes) &&
    !braceList(lower) &&
    !lower.includes('%') &&
    !joinsWordBeforeSite(lower, quotes) &&
    !wordBeforeIn(lower, '/', true, SLASHED) &&
    !wordBeforeIn(lower, '-', true, WINDOWS_DASHED) &&
    !sitesIn(lower, WINDOWS_CALLS)
  );
}

/**
 * Where WINDOWS_EXEC can match: `%comspec%`, `cmd /c`, a dashed word (`powershell -`, `invoke-`,
 * `new-object`), `iex(`. `slash`: whether `s` has a `/` (already known to the caller).
 */
function windowsSite(s: string, slash: boolean): boolean {
  return s.includes('%') || (slash && wordBeforeIn(s, '/', true, WINDOWS_SLASHED)) || wordBeforeIn(s, '-', true, WINDOWS_DASHED) || wordBeforeIn(s, '(', true, WINDOWS_CALLS);
}

/**
 * Reports command-injection rules for one normalised, lower-cased value.
 *
 * @example
 *   detectShell('x; cat /etc/passwd', report) // cmd-chained-command
 */
export function detectShell(lower: string, report: Report): void {
  const dollar = lower.includes('$');
  const backslash = lower.includes('\\');
  const quotes = quotesOf(lower);
  let screen: Segments | undefined;
  if (!dollar && !backslash) {
    screen = new Segments(lower, false);
    if (quiet(lower, quotes, screen)) return;
  }
  const s = unshell(lower, dollar, backslash, quotes);
  if (s !== lower && (dollar || backslash || quotedLetter(lower, quotes)) && /\$\{ifs|\$ifs|\$@|['"][a-z]['"]|\\[a-z]/.test(lower)) report('cmd-obfuscation');
  // Segments after separators: ; | || & && newline, and the inside of $( … ) and ` … `. Any word
  // run with option flags after a separator (`;perf --version`) is a command line too.
  // When unshelling changed nothing, the screen's walk goes on where it stopped: the segments it
  // passed may not run a command (and if it found none, there is none).
  const part = commandSegment(screen !== undefined && s === lower ? screen : new Segments(s, dollar));
  if (part !== undefined) report(/\$\(|`/.test(s) && (s.includes('$(' + part) || s.includes('`' + part)) ? 'cmd-substitution' : 'cmd-chained-command');
  // SHELL_PATH needs `bin/`, so a `/` first: prose seldom has one, and a one-character search is the cheaper.
  const slash = s.includes('/');
  const m = slash && s.includes('bin/') ? SHELL_PATH.exec(s) : null;
  if (m !== null) {
    const after = s.slice(m.index + m[0].length);
    if (/^\s*(?:-|\/|\$|>|<|'|"|[a-z0-9])|^$/.test(after)) report('cmd-shell-path');
  }
  if (windowsSite(s, slash) && WINDOWS_EXEC.test(s)) report('cmd-windows');
}
