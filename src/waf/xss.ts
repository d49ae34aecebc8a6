/**
 * Cross-site scripting: the input is read as HTML the way a browser's tokenizer would (tags,
 * attribute names, attribute values with the whitespace and control characters browsers ignore),
 * and separately as a JavaScript fragment for breakouts from script contexts. "a < b" or "<3" are
 * not tags; `<img src=x onerror=…>` is.
 */
import type { Report } from './rules.js';
import { siteWords, sitesIn, textBefore, wordBeforeIn, WordSet, type SiteWords, type Words } from './sites.js';

/** Elements that run or load active content by themselves. */
const ACTIVE_ELEMENTS = new Set([
  'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'meta', 'link', 'style', 'svg',
  'math', 'xml', 'import', 'isindex', 'form', 'portal', 'xss', 'layer', 'ilayer', 'bgsound', 'handler', 'listener',
  'animate', 'set', 'foreignobject', 'template', 'noscript', 'xmp', 'plaintext', 'vmlframe', 'image',
]);
const URI_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'background', 'lowsrc', 'dynsrc', 'poster', 'codebase', 'code', 'value', 'to', 'from', 'values', 'srcdoc', 'style', 'content', 'ping', 'cite', 'longdesc', 'profile', 'usemap', 'manifest', 'icon', 'classid', 'folder', 'by', 'attributename']);

// eslint-disable-next-line no-control-regex
const IGNORED_IN_SCHEME = /[\u0000-\u0020\u007f-\u00a0]/g;
const SCRIPT_SCHEME = /^(?:javascript|vbscript|livescript|mocha|jscript):|^data:[^,]{0,60}(?:text\/html|svg|xml|script)/;
/** JavaScript sinks and globals that payloads reach for. */
const JS_SINK = /\b(?:alert|prompt|confirm|eval|settimeout|setinterval|fetch|atob|execscript)\s*(?:\(|`)|\b(?:document\s*\.\s*(?:cookie|domain|write|location|body)|window\s*\.\s*(?:location|name|open)|location\s*\.\s*(?:href|hash|search)|string\s*\.\s*fromcharcode|localstorage|sessionstorage|\.innerhtml|top\s*\[|self\s*\[|window\s*\[|globalthis)\b/;
const JS_BREAKOUT = /(?:['"`]\s*[-+*/%,;)|&^]|<\/script|^\s*[-+*/%;)]|\/\/\s*$)/;

const CSS_ACTIVE = /expression\s*\(|javascript:|behavior\s*:|-moz-binding|@import/;
const CSS_ESCAPE = /\\(?:([0-9a-f]{1,6})\s?|([^\n0-9a-f]))/g;

/** CSS escapes (`\65 xpression\28`, `\0075rl`) read as the characters they stand for. */
function cssUnescape(css: string): string {
  if (!css.includes('\\')) return css;
  return css.replace(CSS_ESCAPE, (_m, hex: string | undefined, ch: string | undefined) => (hex === undefined ? ch! : String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff) || 0xfffd)));
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 58 || c === 95;
}

/** First letters of the schemes SCRIPT_SCHEME knows. */
const SCHEME_INITIALS = new Set(['j', 'v', 'l', 'm', 'd'].map((c) => c.charCodeAt(0)));
const SCRIPT_WORDS = siteWords('scheme', ['javascript', 'vbscript']);
const DIALOGS = siteWords('call', ['alert', 'prompt', 'confirm']);
/** Callees, objects and properties in JS_SINK. */
const SINK_CALLS = siteWords('call', ['alert', 'prompt', 'confirm', 'eval', 'settimeout', 'setinterval', 'fetch', 'atob', 'execscript']);
const SINK_OBJECTS = siteWords('object', ['document', 'window', 'location', 'string']);
const INNER_HTML = siteWords('property', ['innerhtml']);

/** Event handler names, the words before `=` that `on[a-z]{3,}\s*=` needs (`onerror =`). */
const HANDLER_NAMES: Words = { hasAt: (s, b, e) => e - b >= 5 && s.startsWith('on', b) };
/** Globals that payloads index (`self['alert']`, `top[…]`, `(document)['cookie']`). */
const INDEXED = new WordSet(['self', 'top', 'window', 'parent', 'globalthis', 'frames', 'content', 'document']);

/** Where a pattern with `name[` can match: a word of INDEXED before `[`, or a `)` (`document)[`); arrays (`pets[0]`) have neither. */
function indexSite(js: string): boolean {
  // Most text has no `[`: one search answers both.
  return js.includes('[') && (wordBeforeIn(js, '[', true, INDEXED) || textBefore(js, '[', true, ')'));
}

/** The first character that {@link schemeOf} keeps (NaN for none). */
function firstSchemeChar(value: string): number {
  let i = 0;
  while (i < value.length && (value.charCodeAt(i) <= 0x20 || (value.charCodeAt(i) >= 0x7f && value.charCodeAt(i) <= 0xa0))) i++;
  return value.charCodeAt(i);
}

/** A call of one of `names` (`name(` or a tagged template `name\``), whitespace allowed before the parenthesis. */
function calls(js: string, names: SiteWords): boolean {
  return sitesIn(js, names) || wordBeforeIn(js, '`', true, names);
}

/**
 * Where JS_SINK can match: a sink call, `document.`, `window.`, `.innerhtml`, an index `[` ({@link indexSite}), or a storage global.
 * `storage` is read back from each `ge` found natively (`g` is rarer than `s`): prose has `ge`
 * (`message`, `page`), and searching `storage` itself stops at every `s` (0.37 µs on PET_NOTES
 * with a `message`, fresh; 0.08 µs read back).
 */
function sinkSite(js: string, indexed: boolean): boolean {
  return indexed || calls(js, SINK_CALLS) || sitesIn(js, SINK_OBJECTS) || sitesIn(js, INNER_HTML) || textBefore(js, 'ge', false, 'stora') || js.includes('globalthis');
}

/** Removes what browsers skip inside a URI scheme (`java\tscript:`, `&#x0A;`) before matching it. */
function schemeOf(value: string): string {
  return value.replace(IGNORED_IN_SCHEME, '').slice(0, 80);
}

function inspectTag(s: string, i: number, report: Report): number {
  // s[i] === '<'; returns where scanning continues.
  let j = i + 1;
  if (s.charCodeAt(j) === 47) j++;
  const nameStart = j;
  while (j < s.length && isNameChar(s.charCodeAt(j))) j++;
  if (j === nameStart || !(s.charCodeAt(nameStart) >= 97 && s.charCodeAt(nameStart) <= 122)) return i + 1;
  // A namespace prefix does not change the element (`<svg:script>`, `<v:vmlframe>`).
  const name = s.slice(Math.max(nameStart, s.lastIndexOf(':', j - 1) + 1), j);
  const next = s.charCodeAt(j);
  // A tag name must end at whitespace, `/`, `>` or the end of input for browsers to see an element.
  if (!(Number.isNaN(next) || next === 62 || next === 47 || next <= 32 || next === 12)) return j;
  if (ACTIVE_ELEMENTS.has(name) && s.charCodeAt(i + 1) !== 47) report('xss-script-tag');
  if (name === 'script' && s.charCodeAt(i + 1) === 47) report('xss-js-sink');
  // Attributes until `>` (or end of input: browsers also act on unterminated tags in many contexts).
  let attrs = 0;
  let end = s.length;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 62) {
      end = j + 1;
      break;
    }
    if (c <= 32 || c === 47 || c === 34 || c === 39) {
      j++;
      continue;
    }
    const start = j;
    while (j < s.length && s.charCodeAt(j) > 32 && s.charCodeAt(j) !== 61 && s.charCodeAt(j) !== 62 && s.charCodeAt(j) !== 47) j++;
    const attr = s.slice(start, j);
    while (j < s.length && s.charCodeAt(j) <= 32) j++;
    let value = '';
    if (s.charCodeAt(j) === 61) {
      j++;
      while (j < s.length && s.charCodeAt(j) <= 32) j++;
      const q = s.charCodeAt(j);
      if (q === 34 || q === 39 || q === 96) {
        const end = s.indexOf(String.fromCharCode(q), j + 1);
        value = s.slice(j + 1, end === -1 ? s.length : end);
        j = end === -1 ? s.length : end + 1;
      } else {
        const vs = j;
        while (j < s.length && s.charCodeAt(j) > 32 && s.charCodeAt(j) !== 62) j++;
        value = s.slice(vs, j);
      }
      attrs++;
    }
    if (attr.length > 2 && attr.startsWith('on') && /^on[a-z]+$/.test(attr) && value !== '') report('xss-event-handler');
    else if (URI_ATTRIBUTES.has(attr) && value !== '') {
      if (SCRIPT_SCHEME.test(schemeOf(value))) report('xss-script-uri');
      if (attr === 'style' && CSS_ACTIVE.test(cssUnescape(value))) report('xss-css-expression');
      if (attr === 'srcdoc' && value.includes('<')) report('xss-script-tag');
    } else if (attr === 'dataformatas' && value === 'html') {
      // IE data binding renders the bound data as markup.
      report('xss-script-tag');
    }
  }
  if (attrs > 0) report('xss-html-tag');
  return end;
}

/**
 * Reports XSS rules for one normalised, lower-cased value.
 *
 * @example
 *   detectXss('<img src=x onerror=alert(1)>', report) // xss-event-handler, xss-js-sink
 */
export function detectXss(lower: string, report: Report): void {
  const tag = lower.indexOf('<');
  let i = tag;
  while (i !== -1 && i < lower.length) {
    const next = inspectTag(lower, i, report);
    i = lower.indexOf('<', next);
  }
  // Each pattern below runs only where it could match (see sites.ts): prose has none of these sites.
  // IE's `<?import implementation=…>` / `<?xml:namespace …>` processing instructions attach behaviours (script) to elements.
  if (tag !== -1 && /<\?(?:import\b|xml:namespace\b)/.test(lower)) report('xss-script-tag');
  const colon = lower.includes(':');
  if (colon && SCHEME_INITIALS.has(firstSchemeChar(lower)) && SCRIPT_SCHEME.test(schemeOf(lower))) report('xss-script-uri');
  if (colon && sitesIn(lower, SCRIPT_WORDS) && /(?:^|[\s"'(=,;])(?:javascript|vbscript)\s*:/.test(lower)) report('xss-script-uri');
  const css = cssUnescape(lower);
  if (textBefore(css, '(', false, 'expression') || css.includes('-moz-binding') || (textBefore(css, ':', true, 'behavior') && /behavior\s*:\s*url/.test(css))) report('xss-css-expression');
  // An attribute injected by closing a quoted attribute value: `" onfocus=…`, `' onselect=$.x(…)`.
  if (wordBeforeIn(lower, '=', true, HANDLER_NAMES) && /['"`]\s*on[a-z]{3,}\s*=/.test(lower)) report('xss-event-handler');
  const js = lower.includes('/*') ? lower.replace(/\/\*[^*]{0,200}\*\//g, '') : lower;
  const indexed = indexSite(js);
  if (indexed && /\b(?:self|top|window|parent|globalthis|frames|content)\s*\[\s*['"`]/.test(js)) report('xss-js-sink');
  if (calls(js, DIALOGS) && /\b(?:alert|prompt|confirm)\s*(?:\(\s*\)|`)/.test(js)) report('xss-js-sink');
  if (indexed && /\bdocument\s*\)?\s*\[\s*['"`](?:cookie|domain|write|location)['"`]/.test(js)) report('xss-js-sink');
  if (sinkSite(js, indexed) && JS_SINK.test(js)) {
    // A sink alone in prose ("set an alert(s)") needs the shape of a script fragment around it.
    if (JS_BREAKOUT.test(lower) || /(?:alert|prompt|confirm|eval)\s*(?:\(\s*(?:[\d'"`/]|document|window|this|string|top|self|[a-z_$][\w$]*\s*\))|`)/.test(js) || /document\s*\.\s*cookie|fromcharcode/.test(js) || lower.includes('<')) {
      report('xss-js-sink');
    }
  }
}
