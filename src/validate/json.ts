/**
 * A JSON parser for untrusted request bodies. Single pass, recursion bounded by the depth limit,
 * so its cost is linear in the input whatever the input is; it refuses what JSON.parse silently
 * accepts and applications then trip over: duplicate keys (which value wins differs between
 * parsers), `__proto__`/`constructor`/`prototype` keys (prototype pollution once merged), and
 * structures past configured limits (depth, keys, array length, string length, number magnitude).
 */

export interface JsonLimits {
  /** Maximum nesting depth of objects and arrays. */
  readonly maxDepth: number;
  /** Maximum number of keys in one object. */
  readonly maxKeys: number;
  /** Maximum number of elements in one array. */
  readonly maxArrayLength: number;
  /** Maximum length of one string (keys and values), characters. */
  readonly maxStringLength: number;
  /** Largest absolute value a number may have. */
  readonly maxNumber: number;
}

/** Defaults (units in {@link JsonLimits}). */
export const DEFAULT_JSON_LIMITS: JsonLimits = {
  maxDepth: 32,
  maxKeys: 1_000,
  maxArrayLength: 10_000,
  maxStringLength: 100_000,
  maxNumber: Number.MAX_SAFE_INTEGER,
};

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a body was refused; `path` names the location (`body.items[3].name`), never the content. */
export class JsonInputError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'JsonInputError';
  }
}

/**
 * Parses `text` under `limits`. Throws {@link JsonInputError}.
 *
 * @example
 *   parseJsonStrict('{"a":1,"a":2}', DEFAULT_JSON_LIMITS) // throws: body.a: duplicate key
 */
export function parseJsonStrict(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  const parser = new Parser(text, limits);
  const result = parser.value(0);
  parser.ws();
  if (parser.i < text.length) parser.fail(0, 'unexpected data after the JSON value');
  return result;
}

/** Inside a JSON string, the characters that need attention: the closing quote, an escape, a control character. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for (JSON refuses them raw)
const STRING_STOP = /["\\\u0000-\u001f]/g;
// eslint-disable-next-line no-control-regex -- see STRING_STOP
const CONTROL = /[\u0000-\u001f]/;

const [QUOTE, COMMA, COLON, OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE] = [34, 44, 58, 91, 93, 123, 125];
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * One parse. The location of the value being parsed is kept as the keys and indexes leading to
 * it (`keys[0..depth)`), and only turned into a `body.a[3].b` string when an error is reported.
 */
class Parser {
  i = 0;
  private readonly keys: Array<string | number> = [];
  /**
   * No control character anywhere in the text (compact JSON, the common case): a string then ends
   * at the next `"` or `\`, found by two native searches, which cost less than restarting
   * STRING_STOP for every string and escape of a two-byte text. With one (pretty-printed JSON has
   * newlines), STRING_STOP reads every string, so that one inside a string is refused.
   */
  private readonly controlFree: boolean;
  /** The first backslash at or after the string being read (-1: none left; -2: not searched yet). */
  private backslash = -2;

  constructor(
    private readonly text: string,
    private readonly limits: JsonLimits,
  ) {
    this.controlFree = !CONTROL.test(text);
  }

  /** Index of the next `"`, `\` or control character from `start` on, or the text's length. */
  private stop(start: number): number {
    const { text } = this;
    if (!this.controlFree) {
      STRING_STOP.lastIndex = start;
      return STRING_STOP.test(text) ? STRING_STOP.lastIndex - 1 : text.length;
    }
    if (this.backslash !== -1 && this.backslash < start) this.backslash = text.indexOf('\\', start);
    const quote = text.indexOf('"', start);
    if (this.backslash !== -1 && (quote === -1 || this.backslash < quote)) return this.backslash;
    return quote === -1 ? text.length : quote;
  }

  /** `body` followed by the first `depth` keys and indexes. */
  path(depth: number): string {
    let out = 'body';
    for (let d = 0; d < depth; d++) {
      const k = this.keys[d]!;
      out += typeof k === 'number' ? `[${k}]` : `.${k.length > 64 ? k.slice(0, 64) + '…' : k}`;
    }
    return out;
  }

  fail(depth: number, problem: string): never {
    throw new JsonInputError(this.path(depth), problem);
  }

  ws(): void {
    const { text } = this;
    while (this.i < text.length) {
      const c = text.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  /**
   * A string at `text[i] === '"'`; errors are reported at `depth`. The plain runs between escapes
   * are found by native searches ({@link stop}) and copied in one piece (prose with quoted words
   * has an escape every few dozen characters; a character loop over the runs cost more).
   */
  str(depth: number): string {
    const { text, limits } = this;
    const n = text.length;
    let start = this.i + 1;
    let out = '';
    for (;;) {
      const i = this.stop(start);
      if (i === n) return this.fail(depth, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        out += text.slice(start, i);
        this.i = i + 1;
        if (out.length > limits.maxStringLength) this.fail(depth, `string longer than ${limits.maxStringLength} characters`);
        return out;
      }
      if (c < 32) return this.fail(depth, 'control character in string');
      // A backslash: the run before it, then what it escapes.
      out += text.slice(start, i);
      const e = text[i + 1];
      start = i + 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(start, start + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(depth, 'invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          start += 4;
          break;
        }
        default:
          this.fail(depth, 'invalid escape');
      }
      if (out.length > limits.maxStringLength) this.fail(depth, `string longer than ${limits.maxStringLength} characters`);
    }
  }

  num(depth: number): number {
    const { text } = this;
    const start = this.i;
    let i = start;
    if (text.charCodeAt(i) === 45 /* - */) i++;
    if (text.charCodeAt(i) === 48 /* 0 */) i++;
    else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
    else this.fail(depth, 'invalid number');
    if (text.charCodeAt(i) === 46 /* . */) {
      i++;
      if (!isDigit(text.charCodeAt(i))) this.fail(depth, 'invalid number');
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === 101 || e === 69 /* e E */) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 43 || sign === 45) i++;
      if (!isDigit(text.charCodeAt(i))) this.fail(depth, 'invalid number');
      while (isDigit(text.charCodeAt(i))) i++;
    }
    this.i = i;
    const v = Number(text.slice(start, i));
    if (!Number.isFinite(v) || Math.abs(v) > this.limits.maxNumber) this.fail(depth, `number larger than ${this.limits.maxNumber} in magnitude`);
    return v;
  }

  literal(word: string, value: unknown, depth: number): unknown {
    if (!this.text.startsWith(word, this.i)) this.fail(depth, 'invalid JSON');
    this.i += word.length;
    return value;
  }

  /** The value at `keys[0..depth)`. */
  value(depth: number): unknown {
    this.ws();
    const c = this.text.charCodeAt(this.i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth >= this.limits.maxDepth) this.fail(depth, `nested deeper than ${this.limits.maxDepth} levels`);
      this.i++;
      this.ws();
      return c === OPEN_BRACKET ? this.array(depth) : this.object(depth);
    }
    if (c === QUOTE) return this.str(depth);
    if (c === 116 /* t */) return this.literal('true', true, depth);
    if (c === 102 /* f */) return this.literal('false', false, depth);
    if (c === 110 /* n */) return this.literal('null', null, depth);
    if (c === 45 /* - */ || isDigit(c)) return this.num(depth);
    return this.fail(depth, Number.isNaN(c) ? 'unexpected end of JSON' : 'invalid JSON');
  }

  /** Array elements, after the `[` and any whitespace. */
  private array(depth: number): unknown[] {
    const { text, limits, keys } = this;
    const arr: unknown[] = [];
    if (text.charCodeAt(this.i) === CLOSE_BRACKET) {
      this.i++;
      return arr;
    }
    for (;;) {
      if (arr.length >= limits.maxArrayLength) this.fail(depth, `array longer than ${limits.maxArrayLength} elements`);
      keys[depth] = arr.length;
      arr.push(this.value(depth + 1));
      this.ws();
      const c = text.charCodeAt(this.i);
      if (c === COMMA) this.i++;
      else if (c === CLOSE_BRACKET) {
        this.i++;
        return arr;
      } else this.fail(depth, 'expected , or ]');
    }
  }

  /** Object members, after the `{` and any whitespace. */
  private object(depth: number): Record<string, unknown> {
    const { text, limits, keys } = this;
    const obj: Record<string, unknown> = {};
    if (text.charCodeAt(this.i) === CLOSE_BRACE) {
      this.i++;
      return obj;
    }
    let count = 0;
    for (;;) {
      this.ws();
      if (text.charCodeAt(this.i) !== QUOTE) this.fail(depth, 'expected a property name');
      const key = this.str(depth);
      keys[depth] = key;
      if (FORBIDDEN_KEYS.has(key)) throw new JsonInputError(this.path(depth + 1).replace(/[^\w.[\]-]/g, '?'), 'forbidden property name (prototype pollution)');
      // Forbidden keys are refused above, so an own-property test is a complete duplicate check.
      if (Object.hasOwn(obj, key)) this.fail(depth + 1, 'duplicate key');
      if (++count > limits.maxKeys) this.fail(depth, `more than ${limits.maxKeys} properties`);
      this.ws();
      if (text.charCodeAt(this.i) !== COLON) this.fail(depth + 1, 'expected :');
      this.i++;
      obj[key] = this.value(depth + 1);
      this.ws();
      const c = text.charCodeAt(this.i);
      if (c === COMMA) this.i++;
      else if (c === CLOSE_BRACE) {
        this.i++;
        return obj;
      } else this.fail(depth, 'expected , or }');
    }
  }
}
