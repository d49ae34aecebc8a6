/**
 * Path traversal and local file inclusion: parent-directory steps in any separator style
 * (`../`, `..\`, `..;/`, `....//` left behind by naive filters), paths to files that only an
 * attacker asks for, and stream wrappers that turn a file parameter into code or data access.
 */
import type { Report } from './rules.js';
import { siteWords, sitesIn, textBefore, wordBeforeIn, WordSet } from './sites.js';

/**
 * A parent step: two dots, or four and more (`....//` left behind by filters that strip `../`),
 * between separators (or at the start). Three dots (`.../src/x.ts`) is how tools elide a path.
 */
const PARENT_STEP = /(?:^|[/\\=:\s'"])(?:\.\.|\.{4,})[/\\;]/g;
const SENSITIVE = /(?:^|[/\\\s'"=:])(?:etc[/\\](?:[a-z][\w.-]*\b(?!\s*[a-z])|passwd|shadow|group|hosts|issue|motd|crontab|sudoers|environment|profile|bashrc|master\.passwd|ssh[/\\]|mysql[/\\]|httpd[/\\]|apache2?[/\\]|nginx[/\\]|security[/\\]|pam\.d|fstab|resolv\.conf|hostname|os-release|inittab|network)|proc[/\\][a-z0-9]|var[/\\](?:log|www|run|lib|mail|spool)[/\\]|root[/\\]|home[/\\][^/\\\s]+[/\\]\.|dev[/\\](?:tcp|udp|null|zero|random|fd)[/\\]?|\.ssh[/\\]|\.aws[/\\]|\.kube[/\\]|\.git[/\\]|\.svn[/\\]|\.env\b|\.htaccess|\.htpasswd|\.bash_history|\.bashrc|\.profile|id_rsa|id_dsa|authorized_keys|known_hosts|web\.config|web-inf[/\\]|meta-inf[/\\]|wp-config\.php|win\.ini|boot\.ini|system\.ini|autoexec\.bat|(?:windows|winnt)[/\\](?:system32|win\.ini|repair|debug|panther)|system32[/\\]|inetpub[/\\]|[a-z]:[/\\](?:windows|winnt|boot\.ini|inetpub)|usr[/\\]local[/\\]|usr[/\\]share[/\\]|usr[/\\]bin[/\\]|bin[/\\](?:sh|bash|cat|ls)\b|sys[/\\](?:class|kernel|devices)[/\\]|opt[/\\]|tmp[/\\])/;
/*
 * Where SENSITIVE can match: a `_` (`id_rsa`), a file extension or dot file it names, a directory it
 * names before a separator (`etc/`, `.ssh/`, `web-inf/`), or a drive (`c:\`). Most values with a `/`
 * (URLs, fractions, "and/or") have none of these directories.
 */
const SENSITIVE_EXTENSIONS = siteWords('property', [], { prefixes: ['env', 'htaccess', 'htpasswd', 'bashrc', 'profile', 'config', 'php', 'ini', 'bat'] });
const SENSITIVE_DIRECTORIES = new WordSet(['etc', 'proc', 'var', 'root', 'home', 'dev', 'ssh', 'aws', 'kube', 'git', 'svn', 'inf', 'windows', 'winnt', 'system32', 'inetpub', 'usr', 'bin', 'sys', 'opt', 'tmp']);

/** True when some `separator` in `lower` follows a directory of SENSITIVE or a drive's `:`. */
function sensitiveDirectory(lower: string, separator: string): boolean {
  return wordBeforeIn(lower, separator, false, SENSITIVE_DIRECTORIES) || textBefore(lower, separator, false, ':');
}
const WRAPPER = /\b(?:php|file|local_file|phar|zip|expect|glob|zlib|compress\.zlib|compress\.bzip2|ogg|rar|ssh2[.\w]{0,12}|jar|netdoc|data):(?:\/\/|[a-z0-9+/]{0,40};base64,)/;

/**
 * Reports path-traversal rules for one normalised, lower-cased value.
 *
 * @example
 *   detectPath('../../etc/passwd', report) // path-traversal, path-sensitive-file
 */
export function detectPath(lower: string, report: Report): void {
  if (lower.includes('..')) {
    let steps = 0;
    let atStart = false;
    for (const m of lower.matchAll(PARENT_STEP)) {
      steps++;
      if (m.index === 0) atStart = true;
      if (steps > 2) break;
    }
    if (steps >= 2 || atStart) report('path-traversal');
    else if (steps === 1) report('path-single-parent');
  }
  const file = lower.includes('_') || sitesIn(lower, SENSITIVE_EXTENSIONS) || sensitiveDirectory(lower, '/') || sensitiveDirectory(lower, '\\') ? SENSITIVE.exec(lower) : null;
  if (file !== null) {
    // "etc/passwd" needs an absolute or traversal prefix to be a path; a word in prose is not.
    const before = lower.slice(Math.max(0, file.index - 2), file.index + 1);
    if (/[/\\]|^[\s'"=:]?$/.test(before) || /^[/\\]|^[a-z]:/.test(file[0].trimStart()) || /\.\w+$|^\.|\b(?:id_rsa|id_dsa|authorized_keys|known_hosts|win\.ini|boot\.ini|system\.ini|web\.config|wp-config\.php)\b/.test(file[0])) {
      report('path-sensitive-file');
    }
  }
  // WRAPPER needs `://` or `;base64,` after its scheme.
  if (lower.includes(':') && (lower.includes('//') || lower.includes(';base64,')) && WRAPPER.test(lower)) report('path-wrapper-scheme');
}
