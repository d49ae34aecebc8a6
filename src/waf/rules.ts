/**
 * The rule table: every detection has a stable id (it appears in events and in exclusions), an
 * attack family, an anomaly score and the paranoia level from which it runs. Detectors only say
 * which rule matched; scoring and levels live here in one place.
 */

export const FAMILIES = ['sqli', 'xss', 'path-traversal', 'command', 'ssrf', 'template', 'ldap', 'nosql', 'xxe', 'jndi', 'crlf', 'code'] as const;
export type Family = (typeof FAMILIES)[number];

export interface RuleInfo {
  readonly family: Family;
  /** Anomaly score: 5 critical (blocks alone at the default threshold), 3 warning, 2 notice. */
  readonly score: number;
  /** Lowest paranoia level (1–3) at which the rule runs. */
  readonly level: 1 | 2 | 3;
  readonly description: string;
}

const r = (family: Family, score: number, level: 1 | 2 | 3, description: string): RuleInfo => ({ family, score, level, description });

export const RULES = {
  'sqli-breakout-comment': r('sqli', 5, 1, 'a string literal is closed and the rest of the query commented out'),
  'sqli-breakout-boolean': r('sqli', 5, 1, 'a string literal is closed and followed by a boolean operator'),
  'sqli-boolean-expression': r('sqli', 5, 1, 'a boolean operator followed by a comparison of literals, calls or sub-selects'),
  'sqli-tautology': r('sqli', 5, 1, 'a literal compared with itself (1=1, \'a\'=\'a\')'),
  'sqli-union-select': r('sqli', 5, 1, 'UNION SELECT'),
  'sqli-stacked-query': r('sqli', 5, 1, 'a second statement after `;`'),
  'sqli-statement': r('sqli', 5, 1, 'a complete SQL statement'),
  'sqli-function-call': r('sqli', 5, 1, 'database functions used in an injected expression'),
  'sqli-time-delay': r('sqli', 5, 1, 'a time-delay function (blind injection)'),
  'sqli-order-by-probe': r('sqli', 5, 1, 'ORDER BY / GROUP BY / HAVING column probing after a literal'),
  'sqli-catalog-object': r('sqli', 3, 1, 'a database catalogue object (information_schema, sysobjects…)'),
  'xss-script-tag': r('xss', 5, 1, 'an HTML element that runs or loads code (script, iframe, object, svg…)'),
  'xss-event-handler': r('xss', 5, 1, 'an HTML element with an event-handler attribute (onerror=…)'),
  'xss-script-uri': r('xss', 5, 1, 'a javascript:/vbscript:/data:text/html URI'),
  'xss-js-sink': r('xss', 5, 1, 'a JavaScript breakout or sink call (alert(…), document.cookie, eval(…))'),
  'xss-css-expression': r('xss', 5, 1, 'CSS that runs script (expression(), behavior, -moz-binding)'),
  'xss-html-tag': r('xss', 3, 2, 'an HTML element with attributes'),
  'path-traversal': r('path-traversal', 5, 1, 'parent-directory traversal (../)'),
  'path-sensitive-file': r('path-traversal', 5, 1, 'a path to a sensitive system file (/etc/passwd, win.ini, /proc/…)'),
  'path-wrapper-scheme': r('path-traversal', 5, 1, 'a stream wrapper or local-file URI (php://, file://, phar://…)'),
  'path-single-parent': r('path-traversal', 3, 1, 'one embedded ../ step'),
  'cmd-chained-command': r('command', 5, 1, 'a shell command after a separator (; | && || newline)'),
  'cmd-substitution': r('command', 5, 1, 'command substitution ($(…) or backticks) running a command'),
  'cmd-shell-path': r('command', 5, 1, 'a fully qualified shell or interpreter path with arguments'),
  'cmd-windows': r('command', 5, 1, 'Windows command-line execution (cmd /c, powershell -…)'),
  'cmd-obfuscation': r('command', 3, 1, 'shell obfuscation (${IFS}, quote-split words, $@)'),
  'ssrf-internal-target': r('ssrf', 5, 1, 'a URL to a loopback, private, link-local, metadata or internal host'),
  'ssrf-dangerous-scheme': r('ssrf', 5, 1, 'a URL with a scheme used for SSRF (gopher:, dict:, ldap:, jar:…)'),
  'ssrf-ip-url': r('ssrf', 3, 2, 'a URL with a literal IP address host'),
  'template-expression': r('template', 5, 1, 'a server-side template expression ({{7*7}}, ${…}, <%= %>, #{…})'),
  'template-object-walk': r('template', 5, 1, 'template sandbox escape through object internals (__class__, constructor…)'),
  'ldap-filter-injection': r('ldap', 5, 1, 'an LDAP filter that closes the query and opens another'),
  'nosql-operator': r('nosql', 5, 1, 'a MongoDB-style query operator ($ne, $where, $regex…)'),
  'nosql-js-expression': r('nosql', 5, 1, 'a JavaScript expression for $where (this.x, return true)'),
  'xxe-entity': r('xxe', 5, 1, 'an XML external entity or DOCTYPE with entities'),
  'xxe-doctype': r('xxe', 3, 2, 'an XML DOCTYPE declaration'),
  'jndi-lookup': r('jndi', 5, 1, 'a JNDI/Log4Shell lookup (${jndi:…}), obfuscated or not'),
  'crlf-header-injection': r('crlf', 5, 1, 'CR/LF followed by a header line (response splitting)'),
  'code-php': r('code', 5, 1, 'PHP code (<?php, dangerous PHP functions, superglobals)'),
  'code-java': r('code', 5, 1, 'Java runtime / reflection / deserialization gadget'),
  'code-node': r('code', 5, 1, 'Node.js code execution (child_process, require(…), process.mainModule)'),
  'code-prototype-pollution': r('code', 5, 1, 'a prototype-pollution path (__proto__, constructor.prototype)'),
  'code-python': r('code', 5, 1, 'Python code execution (__import__, os.system, subprocess)'),
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

/** Detectors call this with each rule that matched. */
export type Report = (rule: RuleId) => void;
