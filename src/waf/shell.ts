/**
 * OS command injection: the input is read as a shell would read it after the application pastes it
 * into a command line. Quote-splitting (`c'a't`), backslashes, `${IFS}` and brace expansion are
 * undone; the input is cut at shell separators; a segment that starts with a command and has the
 * shape of an invocation is an injection. Words like "type", "id" or "sort" are only commands when
 * what follows looks like arguments (`-l`, `/path`) or nothing at all.
 */
import type { Report } from './rules.js';

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

/** Undoes shell quoting tricks so `c'a't /e"t"c/pa\sswd` reads as `cat /etc/passwd`. Each pass runs only when its character is present. */
function unshell(input: string): string {
  let s = input;
  if (s.includes('$')) s = s.replace(/\$\{ifs\}|\$ifs(?:\$\d)?|\$\{ifs%\?\?\}/g, ' ').replace(/\$@|\$\*|\$\d|\$\{\d\}/g, '');
  const quotes = s.includes("'") || s.includes('"');
  if (quotes || s.includes('\\')) s = s.replace(/([a-z0-9/.])(?:''|""|\\(?=[a-z/]))(?=[a-z0-9/.])/g, '$1');
  if (quotes) s = s.replace(/([a-z])['"](?=[a-z])/g, '$1');
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

/**
 * Reports command-injection rules for one normalised, lower-cased value.
 *
 * @example
 *   detectShell('x; cat /etc/passwd', report) // cmd-chained-command
 */
export function detectShell(lower: string, report: Report): void {
  const s = unshell(lower);
  if (s !== lower && /\$\{ifs|\$ifs|\$@|['"][a-z]['"]|\\[a-z]/.test(lower)) report('cmd-obfuscation');
  // Segments after separators: ; | || & && newline, and the inside of $( … ) and ` … `.
  const parts = s.split(/;|\|\|?|&&?|\r|\n|\$\(|`|\)\s*;/);
  for (let i = 1; i < parts.length && i < 64; i++) {
    // Any word run with option flags after a separator (`;perf --version`) is a command line too.
    if (invocation(parts[i]!) || /^\s*[a-z][\w.-]{1,30}\s+(?:--[a-z][\w-]+|-[a-z]{1,3})(?:\s|=|$)/.test(parts[i]!)) {
      report(/\$\(|`/.test(s) && (s.includes('$(' + parts[i]!) || s.includes('`' + parts[i]!)) ? 'cmd-substitution' : 'cmd-chained-command');
      break;
    }
  }
  const m = SHELL_PATH.exec(s);
  if (m !== null) {
    const after = s.slice(m.index + m[0].length);
    if (/^\s*(?:-|\/|\$|>|<|'|"|[a-z0-9])|^$/.test(after)) report('cmd-shell-path');
  }
  if (WINDOWS_EXEC.test(s)) report('cmd-windows');
}
