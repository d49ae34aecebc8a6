/**
 * Client-supplied file names are attacker-controlled strings that upstreams tend to feed to the
 * file system, to shells and to HTML. Rampart refuses the dangerous ones instead of silently
 * rewriting them (the upstream receives the original multipart stream byte for byte), and reports
 * a sanitised form for logs and events.
 */

/** Why a file name was refused. */
export type FilenameProblem =
  | 'empty'
  | 'too-long'
  | 'path'
  | 'traversal'
  | 'control'
  | 'encoded'
  | 'bidi'
  | 'confusable'
  | 'executable'
  | 'double-extension'
  | 'reserved'
  | 'trailing-dot';

export interface FilenameCheck {
  /** Problems found; empty when the name is acceptable. */
  readonly problems: readonly FilenameProblem[];
  /** A safe rendering of the name (base name, NFC, no controls or bidi marks, ≤ 255 bytes), for logs. */
  readonly sanitized: string;
  /** Lower-case final extension without the dot ('' when none). */
  readonly extension: string;
}

/** Extensions that run code when opened or served (Windows, Unix shells, server-side scripts). */
const EXECUTABLE = new Set([
  'exe', 'com', 'bat', 'cmd', 'scr', 'pif', 'msi', 'msp', 'dll', 'cpl', 'jar', 'js', 'jse', 'vbs', 'vbe',
  'wsf', 'wsh', 'ps1', 'psm1', 'hta', 'lnk', 'reg', 'sh', 'bash', 'zsh', 'csh', 'ksh', 'py', 'pl', 'rb',
  'php', 'php3', 'php4', 'php5', 'phtml', 'phar', 'asp', 'aspx', 'jsp', 'jspx', 'cgi', 'shtml', 'htaccess',
  'elf', 'run', 'app', 'dmg', 'pkg', 'deb', 'rpm', 'apk', 'appimage',
]);

/** Windows device names: `CON.jpg` opens the console on a Windows upstream. */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/** C0/C1 controls, DEL and NUL (`a.php%00.jpg` arrives as a real NUL once decoded). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Bidi overrides/isolates and marks: `invoice\u202Egpj.exe` displays as `invoiceexe.jpg`. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/**
 * Characters that imitate a dot, a slash or hide themselves: fullwidth and one-dot leaders,
 * fraction and division slashes, zero-width characters and the byte-order mark.
 */
const CONFUSABLE = /[\u2024\u2027\u2044\u2215\u29f8\uff0e\uff0f\uff3c\u200b-\u200d\u2060\ufeff\u00ad\u180e]/;

/**
 * Checks a client-supplied file name.
 *
 * @example
 *   checkFilename('../../etc/passwd').problems // ['path', 'traversal']
 *   checkFilename('a.php\u0000.jpg').problems  // ['control', 'double-extension']
 *   checkFilename('cat.png').problems          // []
 */
export function checkFilename(raw: string, maxBytes = 255): FilenameCheck {
  const problems = new Set<FilenameProblem>();
  const name = raw.normalize('NFC');
  if (name.trim() === '') problems.add('empty');
  if (Buffer.byteLength(name) > maxBytes) problems.add('too-long');
  if (/[/\\]/.test(name) || /^[a-zA-Z]:/.test(name)) problems.add('path');
  if (name.split(/[/\\]/).some((s) => s === '..' || s === '.')) problems.add('traversal');
  if (CONTROL.test(name)) problems.add('control');
  // `a.php%00.jpg`: an upstream that percent-decodes names would see a NUL or a slash.
  if (/%[0-9a-fA-F]{2}/.test(name)) problems.add('encoded');
  if (BIDI.test(name)) problems.add('bidi');
  if (CONFUSABLE.test(name) || name.normalize('NFKC') !== name.normalize('NFC')) problems.add('confusable');
  if (/[. ]$/.test(name)) problems.add('trailing-dot');

  // Judge extensions on the name as a naive upstream would see it: cut at the first NUL, and look
  // at every dotted part, so `a.php%00.jpg` and `invoice.pdf.exe` are both caught.
  const base = name.split(/[/\\]/).pop() ?? '';
  const parts = base.toLowerCase().split('.');
  const stem = parts[0]!.trim();
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const extensions = parts.slice(1).map((p) => p.replace(/[\u0000-\u0020]/g, ''));
  const last = extensions.length > 0 ? extensions[extensions.length - 1]! : '';
  if (EXECUTABLE.has(last)) problems.add('executable');
  if (extensions.slice(0, -1).some((e) => EXECUTABLE.has(e))) problems.add('double-extension');
  if (RESERVED.test(stem)) problems.add('reserved');
  if (base.startsWith('.')) problems.add('path');

  return { problems: [...problems], sanitized: sanitize(base, maxBytes), extension: last };
}

function sanitize(base: string, maxBytes: number): string {
  let s = base
    .normalize('NFKC')
    .replace(new RegExp(`${CONTROL.source}|${BIDI.source}|${CONFUSABLE.source}`, 'g'), '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '');
  while (Buffer.byteLength(s) > maxBytes) s = s.slice(0, -1);
  return s === '' ? 'unnamed' : s;
}
