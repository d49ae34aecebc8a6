/**
 * The smaller families: LDAP filter injection, NoSQL operator injection, XML external entities,
 * CR/LF header injection and code injection into interpreters (PHP, Java, Node.js, Python).
 */
import type { Report } from './rules.js';
import { firstNonSpace, siteWords, sitesIn, spacesForward, textBefore } from './sites.js';

/** A filter closed and another opened: `*)(uid=*`, `admin)(|(password=*`, `)(&(objectclass=*`. */
const LDAP_REOPEN = /\)\s*\(\s*\(?\s*[|&!]?\s*\(?\s*[a-z][\w.;-]*\s*[~<>]?=/;
const LDAP_LEADING = /^\s*\*?\s*\)\s*\(|^\s*\(\s*[|&]\s*\(\s*[a-z][\w.-]*\s*[~<>]?=|\(\s*[|&]\s*\(\s*[a-z][\w.-]*\s*=\s*\*\s*\)/;

/** MongoDB query and aggregation operators. */
const MONGO_OPERATORS = 'ne|eq|gt|gte|lt|lte|in|nin|exists|regex|where|expr|function|accumulator|or|and|nor|not|elemmatch|size|all|type|mod|text|search|jsonschema|lookup|group|match|project|unwind|addfields|merge|out|set|unset|rename|inc|push|pull|options|comment|natural|isolated|slice|meta|geowithin|near';
const MONGO_KEY = new RegExp(`^\\$(?:${MONGO_OPERATORS})$`);
const MONGO_IN_VALUE = new RegExp(`(?:^|[{\\[,"'\\s])\\$(?:${MONGO_OPERATORS})(?=\\s*(?:["':\\]}]|$))`);
const MONGO_JS = /\bthis\s*\.\s*[a-z_$][\w$]*\s*(?:[=!<>]=?|\.\s*(?:match|length|indexof|startswith)\b|\[)|[;{]\s*return\s+(?:true|1|this|!|\w+\s*[=!<>]=)|\bfunction\s*\(\s*\)\s*\{|\bsleep\s*\(\s*\d+\s*\)|'\s*\|\|\s*'[^']*'\s*==\s*'|\bobject\.keys\s*\(\s*this\b/;

const XXE = /<!entity\b|<!doctype[^>]{0,400}\[\s*<!|<xi:include\b|\bxmlns:xi\s*=|<!doctype[^>]{0,200}\bsystem\s+["']/;
const HEADER_AFTER_NEWLINE = /[\r\n]\s*[a-z][\w-]{1,40}\s*:|[\r\n]\s*<(?:script|html|body)|[\r\n]\s*http\/\d/;

const PHP_OPEN = /<\?(?:php\b|=|\s)|\[\/?php\]/;
const PHP_STRONG_FN = /\b(?:shell_exec|passthru|proc_open|popen|pcntl_exec|base64_decode|gzinflate|gzuncompress|str_rot13|phpinfo|file_get_contents|file_put_contents|fwrite|fputs|create_function|call_user_func(?:_array)?|preg_replace|move_uploaded_file|curl_exec|highlight_file|show_source|proc_nice|posix_\w+|ini_set|putenv|array_map|array_filter|usort|assert_options|get_defined_vars|var_dump|print_r|unserialize|escapeshellcmd|symlink|chmod|fsockopen|stream_socket_client)\s*\(/;
const PHP_WEAK_FN = /\b(?:system|exec|eval|assert|include|include_once|require_once|readfile|fopen|unlink|opendir|scandir)\s*\(\s*['"`$]|\b(?:system|exec|eval|assert)\s*\(\s*[a-z_]+\s*\(|\b(?:system|exec|eval|assert)\s*\(\s*\$/;
const PHP_VARS = /\$_(?:get|post|request|cookie|server|files|env|session)\b|\$globals\b|\$\{\s*['"]?_(?:get|post|request|cookie|server)/;
const PHP_SERIALIZED = /\b[oc]:\d+:"[a-z_\\][\w\\]*":\d+:\{|\ba:\d+:\{[is]:\d+[;:]/;
const JAVA = /\bjava\.(?:lang|io|nio|net|beans|rmi|security|util\.(?:zip|scanner|jar))\.[a-z]|\bjavax\.(?:script|naming|management)|\.getruntime\s*\(|\bprocessbuilder\b|\.forname\s*\(|\.getmethod\s*\(|\.getdeclaredmethod\s*\(|\.invoke\s*\(|\.newinstance\s*\(|\bclassloader\b|org\.apache\.commons\.(?:collections|beanutils)|com\.sun\.(?:rowset|jndi|org\.apache)|\bsun\.misc\.|org\.springframework\.(?:context|beans)|\bxwork\b|ognlutil|org\.codehaus\.groovy|\bjdk\.jshell|\.exec\s*\(\s*['"]/;
const JAVA_SERIALIZED = /rO0AB|\bH4sIAAAAAAAA|aced0005/;
const NODE = /\brequire\s*\(\s*['"`](?:child_process|fs|net|vm|os|http|dgram|cluster|worker_threads)['"`]|\bchild_process\b|\bprocess\s*\.\s*(?:mainmodule|binding|env|kill|exit|dlopen)\b|\bglobal\s*\.\s*process\b|\.(?:execsync|spawnsync|exec|spawn)\s*\(\s*['"`]|\bnew\s+function\s*\(/;
const PROTO = /__proto__|\bconstructor\s*(?:\.|\[\s*['"]?)\s*prototype\b/;
const PYTHON = /\b__import__\s*\(|\bos\s*\.\s*(?:system|popen|exec\w*|spawn\w*)\s*\(|\bsubprocess\s*\.\s*\w+\s*\(|\bpickle\s*\.\s*loads?\s*\(|\bimportlib\b|\bbuiltins\s*\.|\bcompile\s*\(\s*['"].*['"]\s*,\s*['"]|\bexec\s*\(\s*['"](?:import|__)/;

/*
 * Where each pattern can match (see sites.ts): the callees, objects and characters its
 * alternatives need. A pattern runs only when its value has one of them. Names without such a
 * site are searched from a rarer letter (`builder` for `processbuilder`): a search costs more the
 * more often its first letter occurs.
 */
const MONGO_JS_CALLS = siteWords('call', ['sleep', 'keys', 'function']);
const THIS = siteWords('object', ['this']);
const PHP_CALLS = siteWords(
  'call',
  [
    // PHP_STRONG_FN
    'shell_exec', 'passthru', 'proc_open', 'popen', 'pcntl_exec', 'base64_decode', 'gzinflate', 'gzuncompress', 'str_rot13', 'phpinfo',
    'file_get_contents', 'file_put_contents', 'fwrite', 'fputs', 'create_function', 'call_user_func', 'call_user_func_array', 'preg_replace',
    'move_uploaded_file', 'curl_exec', 'highlight_file', 'show_source', 'proc_nice', 'ini_set', 'putenv', 'array_map', 'array_filter', 'usort',
    'assert_options', 'get_defined_vars', 'var_dump', 'print_r', 'unserialize', 'escapeshellcmd', 'symlink', 'chmod', 'fsockopen', 'stream_socket_client',
    // PHP_WEAK_FN
    'system', 'exec', 'eval', 'assert', 'include', 'include_once', 'require_once', 'readfile', 'fopen', 'unlink', 'opendir', 'scandir',
  ],
  { prefixes: ['posix_'] },
);
const JAVA_CALLS = siteWords('call', ['getruntime', 'forname', 'getmethod', 'getdeclaredmethod', 'invoke', 'newinstance', 'exec']);
const JAVA_OBJECTS = siteWords('object', ['java', 'javax', 'sun', 'jdk'], { suffixes: ['org', 'com'] });
const NODE_CALLS = siteWords('call', ['require', 'execsync', 'spawnsync', 'exec', 'spawn', 'function']);
const NODE_OBJECTS = siteWords('object', ['process', 'global']);
const PYTHON_CALLS = siteWords('call', ['compile', 'exec']);
const PYTHON_OBJECTS = siteWords('object', ['os', 'subprocess', 'pickle', 'builtins']);
const CONSTRUCTOR = siteWords('object', ['constructor']);

/**
 * `ch` then `return` (spaces allowed): `[;{]\s*return` of MONGO_JS. Read from each `ch` found
 * natively rather than as a kind of site: only this pattern reads the word after `;`, and reading
 * every site of that kind cost more than the search.
 */
function returnAfter(lower: string, ch: string): boolean {
  for (let p = lower.indexOf(ch); p !== -1; p = lower.indexOf(ch, p + 1)) if (lower.startsWith('return', spacesForward(lower, p + 1))) return true;
  return false;
}

function mongoJsSite(lower: string): boolean {
  return lower.includes('||') || sitesIn(lower, MONGO_JS_CALLS) || sitesIn(lower, THIS) || returnAfter(lower, ';') || returnAfter(lower, '{');
}

function javaSite(lower: string): boolean {
  return sitesIn(lower, JAVA_OBJECTS) || sitesIn(lower, JAVA_CALLS) || lower.includes('builder') || lower.includes('classloader') || lower.includes('xwork') || lower.includes('gnlutil');
}

/** `underscore`: whether `lower` has a `_` (searched for once, for every pattern that needs one). */
function nodeSite(lower: string, underscore: boolean): boolean {
  return underscore || sitesIn(lower, NODE_CALLS) || sitesIn(lower, NODE_OBJECTS);
}

function pythonSite(lower: string, underscore: boolean): boolean {
  return underscore || sitesIn(lower, PYTHON_OBJECTS) || sitesIn(lower, PYTHON_CALLS) || lower.includes('mportlib');
}

/** LDAP filter injection. */
export function detectLdap(lower: string, report: Report): void {
  if (!lower.includes(')')) return;
  // Every alternative needs an `=`, except a value that starts with `)` or `*)`; with an `=`, LDAP_REOPEN
  // needs `)(`, and LDAP_LEADING `(|` or `(&` (spaces allowed), which code (`) {`, `a && b`) seldom has.
  const eq = lower.includes('=');
  const first = firstNonSpace(lower);
  if (
    (eq && textBefore(lower, '(', true, ')') && LDAP_REOPEN.test(lower)) ||
    ((first === 41 /* ) */ || first === 42 /* * */ || (eq && (textBefore(lower, '|', true, '(') || textBefore(lower, '&', true, '(')))) && LDAP_LEADING.test(lower))
  ) {
    report('ldap-filter-injection');
  }
}

/** NoSQL operators in values (`{"$ne": 1}` as text, `[$ne]`) and `$where` JavaScript. */
export function detectNosql(lower: string, report: Report): void {
  if (lower.includes('$') && MONGO_IN_VALUE.test(lower)) report('nosql-operator');
  if (mongoJsSite(lower) && MONGO_JS.test(lower)) report('nosql-js-expression');
}

/** NoSQL operators used as object keys (`{"password": {"$ne": null}}`, `password[$ne]=`). */
export function detectNosqlKey(lowerKey: string, report: Report): void {
  if (lowerKey.startsWith('$') && MONGO_KEY.test(lowerKey)) report('nosql-operator');
  else if (lowerKey.includes('[$') && MONGO_IN_VALUE.test(lowerKey.replace(/\[/g, ' ').replace(/\]/g, '"'))) report('nosql-operator');
}

/** XML external entities (any location; XML bodies are inspected as a whole). */
export function detectXxe(lower: string, report: Report): void {
  if (!lower.includes('<!') && !lower.includes('xi:')) return;
  if (XXE.test(lower)) report('xxe-entity');
  else if (lower.includes('<!doctype')) report('xxe-doctype');
}

/** CR/LF followed by a header line, for inputs that end up in headers (never free-text bodies). */
export function detectCrlf(decoded: string, report: Report): void {
  if ((decoded.includes('\r') || decoded.includes('\n')) && HEADER_AFTER_NEWLINE.test(decoded.toLowerCase())) report('crlf-header-injection');
}

/** Code injection into interpreters. `original` keeps case for base64 markers of serialized objects. */
export function detectCode(lower: string, original: string, report: Report): void {
  // Each pattern runs only where it can match (the sites above).
  if (
    ((lower.includes('<?') || textBefore(lower, ']', false, 'php')) && PHP_OPEN.test(lower) && !lower.includes('<?xml')) ||
    (sitesIn(lower, PHP_CALLS) && (PHP_STRONG_FN.test(lower) || PHP_WEAK_FN.test(lower))) ||
    (lower.includes('$') && PHP_VARS.test(lower)) ||
    (lower.includes(':{') && PHP_SERIALIZED.test(lower))
  ) {
    report('code-php');
  }
  if ((javaSite(lower) && JAVA.test(lower)) || ((original.includes('0') || original.includes('H4sIAAAAAAAA')) && JAVA_SERIALIZED.test(original))) report('code-java');
  const underscore = lower.includes('_');
  if (nodeSite(lower, underscore) && NODE.test(lower)) report('code-node');
  if (pythonSite(lower, underscore) && PYTHON.test(lower)) report('code-python');
  if ((underscore || lower.includes('[') || sitesIn(lower, CONSTRUCTOR)) && PROTO.test(lower)) report('code-prototype-pollution');
}
