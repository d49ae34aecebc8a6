/**
 * Server-side template injection and Log4Shell-style lookups. Template delimiters around a plain
 * name (`{{name}}`, `${price}`) are placeholders and pass; delimiters around an expression with
 * operators, calls, indexing or object internals are code.
 */
import type { Report } from './rules.js';
import { siteWords, sitesIn, wordBeforeIn, WordSet } from './sites.js';

/** Expression delimiters of common engines: Jinja/Twig/Handlebars, JSP EL/Freemarker/Thymeleaf, Ruby/Pug, ERB/EJS, Razor. */
const DELIMITED = /\{\{([^{}]{0,400})\}\}|[$#*@~]\{([^{}]{0,400})\}|<%=?([^%]{0,400})%>|\{%([^%]{0,400})%\}|\{\{([^}]{0,400})$/g;
const EXPRESSION = /[()*+[\]|'"`<>^%!]|__|\b(?:import|for|if|set|include|extends|exec|eval|range|self|request|config|lipsum|cycler|joiner|namespace|class|getclass|forname|runtime|new)\b|-\s*\d|\d\s*-|\.\s*\w+\s*\(/;
const JSON_MEMBER = /^\s*"[\w -]{1,40}"\s*:\s*(?:"[^"]*"|-?\d[\d.]*|true|false|null)\s*(?:,|$)/;
const OBJECT_WALK = /__(?:class|mro|subclasses|globals|builtins|init|import|base|bases|dict|getattribute|reduce)__|\bconstructor\s*(?:\.\s*constructor|\[\s*['"]constructor)|\.getclass\s*\(|\bclass\s*\.\s*(?:forname|classloader|module)|_memberaccess|@java\.lang|\bt\s*\(\s*java\.|\.getruntime\s*\(|freemarker\.template\.utility\.execute|\?new\s*\(/;

/** Where OBJECT_WALK can match besides `_` and `@`: its callees (`?new(` too) and objects, and `constructor[`. */
const WALK_CALLS = siteWords('call', ['getclass', 't', 'getruntime', 'new']);
const WALK_OBJECTS = siteWords('object', ['constructor', 'class'], { suffixes: ['freemarker'] });
const CONSTRUCTOR = new WordSet(['constructor']);

/**
 * Where DELIMITED can match: `{{`, `{%`, `<%`, or a `{` after one of `$#*@~`. Code and JSON have
 * braces after none of these (`) {`, `": {`).
 */
function delimiterSite(lower: string): boolean {
  if (lower.includes('{{') || lower.includes('{%') || lower.includes('<%')) return true;
  for (let p = lower.indexOf('{'); p !== -1; p = lower.indexOf('{', p + 1)) {
    const c = lower.charCodeAt(p - 1);
    if (c === 36 /* $ */ || c === 35 /* # */ || c === 42 /* * */ || c === 64 /* @ */ || c === 126 /* ~ */) return true;
  }
  return false;
}

/** Resolves nested Log4j lookups (`${lower:j}`, `${::-n}`, `${env:X:-d}`) so the hidden `jndi:` shows. */
function resolveLookups(s: string): string {
  let out = s;
  for (let round = 0; round < 12; round++) {
    const next = out.replace(/\$\{([^${}]{0,200})\}/g, (_m, inner: string) => {
      const dflt = inner.lastIndexOf(':-');
      if (dflt !== -1) return inner.slice(dflt + 2);
      const colon = inner.indexOf(':');
      const kind = colon === -1 ? '' : inner.slice(0, colon).trim();
      if (kind === 'lower' || kind === 'upper') return inner.slice(colon + 1);
      if (kind === 'date') return inner.slice(colon + 1).replace(/'/g, '');
      // Unknown lookups are kept, marked so the next round does not expand them again.
      return `\u0001{${inner}}`;
    });
    if (next === out) break;
    out = next;
  }
  return out;
}

/**
 * Reports template and lookup rules for one normalised, lower-cased value.
 *
 * @example
 *   detectTemplate('{{7*7}}', report) // template-expression
 */
export function detectTemplate(lower: string, report: Report): void {
  if (lower.includes('${')) {
    const resolved = resolveLookups(lower);
    // eslint-disable-next-line no-control-regex -- \u0001 marks lookups already seen (see resolveLookups)
    if (/\{\s*(?:jndi|ldaps?|rmi|dns|iiop|corba|nds|nis|http)\s*:/.test(resolved) || /\u0001\{\s*(?:env|sys|java|ctx|main|bundle|k8s|docker|spring|base64|log4j|web|marker|sd|map|event)\s*:/.test(resolved)) {
      report('jndi-lookup');
    }
  } else if (lower.includes('//') && /\bjndi\s*:\s*(?:ldaps?|rmi|dns|iiop|corba|nds|nis|http)\s*:\/\//.test(lower)) {
    report('jndi-lookup');
  }
  if (delimiterSite(lower)) {
    for (const m of lower.matchAll(DELIMITED)) {
      const inner = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? '';
      // `#{"color":"#fff"}` in a URL fragment is a JSON object, not an interpolated expression.
      if (m[2] !== undefined && JSON_MEMBER.test(inner)) continue;
      if (inner.trim() !== '' && EXPRESSION.test(inner)) {
        report('template-expression');
        break;
      }
    }
  }
  if ((lower.includes('_') || lower.includes('@') || sitesIn(lower, WALK_CALLS) || sitesIn(lower, WALK_OBJECTS) || wordBeforeIn(lower, '[', true, CONSTRUCTOR)) && OBJECT_WALK.test(lower)) report('template-object-walk');
}
