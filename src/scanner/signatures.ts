/**
 * Error and leak signatures that checks look for in responses. Each is specific enough that its
 * mere presence in a response body is evidence (generic words like "error" are not here).
 */

export interface Signature {
  family: 'sql' | 'nosql' | 'command' | 'template' | 'stack' | 'metadata';
  name: string;
  pattern: RegExp;
}

export const SIGNATURES: readonly Signature[] = [
  { family: 'sql', name: 'MySQL', pattern: /You have an error in your SQL syntax|mysql_fetch|MySqlException|com\.mysql\.jdbc/i },
  { family: 'sql', name: 'PostgreSQL', pattern: /syntax error at or near|unterminated quoted string at or near|PG::SyntaxError|org\.postgresql\.util\.PSQLException|invalid input syntax for (type )?integer/i },
  { family: 'sql', name: 'SQLite', pattern: /SQLITE_ERROR|SQLite3?::|sqlite3\.OperationalError|unrecognized token: "|near "[^"]{1,40}": syntax error/i },
  { family: 'sql', name: 'SQL Server', pattern: /Unclosed quotation mark after the character string|Microsoft OLE DB Provider for SQL Server|System\.Data\.SqlClient\.SqlException/i },
  { family: 'sql', name: 'Oracle', pattern: /\bORA-\d{5}\b|quoted string not properly terminated/i },
  { family: 'sql', name: 'generic SQL', pattern: /SQLSTATE\[|SQL syntax.*?error|JDBCException|Hibernate.*?Exception/i },
  { family: 'nosql', name: 'MongoDB', pattern: /MongoError|MongoServerError|\$where.*?(SyntaxError|not allowed)|CastError: Cast to|unknown operator: \$/i },
  { family: 'command', name: 'command output', pattern: /\buid=\d+\([a-z0-9_-]+\)\s+gid=\d+/i },
  { family: 'command', name: 'shell error', pattern: /sh: \d+: [^\n]{0,80}: not found|\/bin\/sh: [^\n]{0,80}(not found|syntax error)/i },
  { family: 'template', name: 'template engine error', pattern: /jinja2\.exceptions|TemplateSyntaxError|freemarker\.core\.|org\.apache\.velocity|Liquid error|Handlebars: |nunjucks/i },
  { family: 'stack', name: 'Node.js stack trace', pattern: /\n\s+at [^\n]{1,200}\((?:file:\/\/)?\/[^\n)]*:\d+:\d+\)|\bat Object\.<anonymous>|node:internal\//},
  { family: 'stack', name: 'Python traceback', pattern: /Traceback \(most recent call last\)|File "[^"]+", line \d+, in /},
  { family: 'stack', name: 'Java stack trace', pattern: /\bat (java|javax|org\.springframework|com\.sun)\.[\w.$]+\(|java\.lang\.\w+Exception/},
  { family: 'stack', name: '.NET stack trace', pattern: /System\.\w+Exception:| {3}at [\w.]+\.\w+\(.*\) in [A-Z]:\\|Server Error in '\/' Application/},
  { family: 'stack', name: 'PHP error', pattern: /(Fatal error|Warning|Parse error): .{1,200} in \/.{1,200} on line \d+/},
  { family: 'stack', name: 'Ruby/Rails error', pattern: /ActionController::|ActiveRecord::\w+Error|\.rb:\d+:in `/},
  { family: 'stack', name: 'Go panic', pattern: /goroutine \d+ \[running\]|panic: runtime error/},
  { family: 'metadata', name: 'cloud metadata', pattern: /"?(ami-id|instance-id|iam\/security-credentials|computeMetadata)"?/},
  { family: 'metadata', name: '/etc/passwd', pattern: /root:[x*]?:0:0:/},
];

/** Signatures of the given families found in `text` (and not in `baseline`, when given). */
export function matchSignatures(text: string, families: readonly Signature['family'][], baseline = ''): Signature[] {
  return SIGNATURES.filter((s) => families.includes(s.family) && s.pattern.test(text) && !s.pattern.test(baseline));
}

/** Keys whose values should never leave an API. */
export const SENSITIVE_KEY = /^(password|passwd|pwd|password_?hash|passwordHash|hashed_?password|secret|client_?secret|api_?secret|private_?key|privateKey|ssn|social_?security(_?number)?|credit_?card(_?number)?|card_?number|cardNumber|cvv|cvc|pin|mfa_?secret|otp_?secret|totp_?secret)$/i;

/** US SSN shape. */
export const SSN = /^\d{3}-\d{2}-\d{4}$/;

/** A 13–19 digit number that passes the Luhn check (payment card). */
export function isCardNumber(value: string): boolean {
  const digits = value.replace(/[ -]/g, '');
  if (!/^\d{13,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
