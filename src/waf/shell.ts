/**
 * OS command injection: the input is read as a shell would read it after the application pastes it
 * into a command line. Quote-splitting (`c'a't`), backslashes, `${IFS}` and brace expansion are
 * undone; the input is cut at shell separators; a segment that starts with a command and has the
 * shape of an invocation is an injection. Words like "type", "id" or "sort" are only commands when
 * what follows looks like arguments (`-l`, `/path`) or nothing at all.
 */
import type { Report } from './rules.js';
import { isRegexSpace, isRegexWord, wordBeforeIn } from './sites.js';

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

/** `s` without the quotes between two letters (`c'a't` → `cat`): `s.replace(/([a-z])['"](?=[a-z])/g, '$1')` without its scan of the whole value. */
function dropQuotesInWords(s: string): string {
  let out = '';
  let from = 0;
  for (let p = nextQuote(s, 0); p !== -1; p = nextQuote(s, p + 1)) {
    if (quoteInWord(s, p)) {
      out += s.slice(from, p);
      from = p + 1;
    }
  }
  return from === 0 ? s : out + s.slice(from);
}

function nextQuote(s: string, from: number): number {
  const single = s.indexOf("'", from);
  const double = s.indexOf('"', from);
  return single === -1 ? double : double === -1 ? single : Math.min(single, double);
}

/** `'a'`: some letter between two quotes. */
function quotedLetter(s: string): boolean {
  for (let p = nextQuote(s, 0); p !== -1; p = nextQuote(s, p + 1)) {
    const c = s.charCodeAt(p + 2);
    if (isLetter(s.charCodeAt(p + 1)) && (c === 39 || c === 34)) return true;
  }
  return false;
}

const SEPARATORS = [';', '|', '&', '\r', '\n', '$(', '`'];

function hasSeparator(s: string): boolean {
  for (const x of SEPARATORS) if (s.includes(x)) return true;
  return false;
}
const WINDOWS_DASHED = new Set(['powershell', 'exe', 'pwsh', 'invoke', 'start', 'new']);
const WINDOWS_SLASHED = new Set(['cmd', 'exe']);
const WINDOWS_CALLS = new Set(['iex', 'downloadstring']);

/**
 * False when the segment's first word cannot be a known command, read as commandAt reads it: a
 * word without `=` (no assignment before it) or `/` (no path) is its own command name.
 */
function mayInvoke(seg: string): boolean {
  let i = 0;
  while (i < seg.length && (isRegexSpace(seg.charCodeAt(i)) || seg.charCodeAt(i) === 40 /* ( */)) i++;
  let j = i;
  while (j < seg.length && !isRegexSpace(seg.charCodeAt(j))) {
    if (seg.charCodeAt(j) === 61 /* = */ || seg.charCodeAt(j) === 47 /* / */) return true;
    j++;
  }
  if (!isLetter(seg.charCodeAt(i))) return false;
  // The name is `^[a-z][\w.+-]*` of the word.
  let e = i + 1;
  while (e < j && (isRegexWord(seg.charCodeAt(e)) || seg.charCodeAt(e) === 46 || seg.charCodeAt(e) === 43 || seg.charCodeAt(e) === 45)) e++;
  const cmd = seg.endsWith('.exe', e) ? seg.slice(i, e - 4) : seg.slice(i, e);
  return DISTINCT.has(cmd) || WORDLIKE.has(cmd);
}

/** Undoes shell quoting tricks so `c'a't /e"t"c/pa\sswd` reads as `cat /etc/passwd`. Each pass runs only when its character is present. */
function unshell(input: string): string {
  let s = input;
  if (s.includes('$')) s = s.replace(/\$\{ifs\}|\$ifs(?:\$\d)?|\$\{ifs%\?\?\}/g, ' ').replace(/\$@|\$\*|\$\d|\$\{\d\}/g, '');
  if (s.includes("''") || s.includes('""') || s.includes('\\')) s = s.replace(/([a-z0-9/.])(?:''|""|\\(?=[a-z/]))(?=[a-z0-9/.])/g, '$1');
  s = dropQuotesInWords(s);
  if (s.includes('{')) s = s.replace(/\{([\w./-]+),([^{}\s]{1,200})\}/g, '$1 $2');
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

/** Where WINDOWS_EXEC can match: `%comspec%`, `cmd /c`, a dashed word (`powershell -`, `invoke-`, `new-object`), `iex(`. */
function windowsSite(s: string): boolean {
  return s.includes('%') || (s.includes('/') && wordBeforeIn(s, '/', true, WINDOWS_SLASHED)) || (s.includes('-') && wordBeforeIn(s, '-', true, WINDOWS_DASHED)) || (s.includes('(') && wordBeforeIn(s, '(', true, WINDOWS_CALLS));
}

/**
 * Reports command-injection rules for one normalised, lower-cased value.
 *
 * @example
 *   detectShell('x; cat /etc/passwd', report) // cmd-chained-command
 */
export function detectShell(lower: string, report: Report): void {
  const s = unshell(lower);
  if (s !== lower && (lower.includes('$') || lower.includes('\\') || quotedLetter(lower)) && /\$\{ifs|\$ifs|\$@|['"][a-z]['"]|\\[a-z]/.test(lower)) report('cmd-obfuscation');
  // Segments after separators: ; | || & && newline, and the inside of $( … ) and ` … `.
  const parts = hasSeparator(s) ? s.split(/;|\|\|?|&&?|\r|\n|\$\(|`|\)\s*;/) : [s];
  for (let i = 1; i < parts.length && i < 64; i++) {
    const part = parts[i]!;
    // Any word run with option flags after a separator (`;perf --version`) is a command line too.
    if ((mayInvoke(part) && invocation(part)) || (part.includes('-') && /^\s*[a-z][\w.-]{1,30}\s+(?:--[a-z][\w-]+|-[a-z]{1,3})(?:\s|=|$)/.test(part))) {
      report(/\$\(|`/.test(s) && (s.includes('$(' + part) || s.includes('`' + part)) ? 'cmd-substitution' : 'cmd-chained-command');
      break;
    }
  }
  const m = s.includes('bin/') ? SHELL_PATH.exec(s) : null;
  if (m !== null) {
    const after = s.slice(m.index + m[0].length);
    if (/^\s*(?:-|\/|\$|>|<|'|"|[a-z0-9])|^$/.test(after)) report('cmd-shell-path');
  }
  if (windowsSite(s) && WINDOWS_EXEC.test(s)) report('cmd-windows');
}
