/**
 * A JSON parser for untrusted request bodies. Single pass, iterative-free recursion bounded by the
 * depth limit, so its cost is linear in the input whatever the input is; it refuses what
 * JSON.parse silently accepts and applications then trip over: duplicate keys (which value wins
 * differs between parsers), `__proto__`/`constructor`/`prototype` keys (prototype pollution once
 * merged), and structures past configured limits (depth, keys, array length, string length,
 * number magnitude).
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
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (path: string, problem: string): never => {
    throw new JsonInputError(path, problem);
  };
  const str = (path: string): string => {
    // text[i] === '"'
    i++;
    let out = '';
    let start = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(start, i);
        i++;
        if (out.length > limits.maxStringLength) fail(path, `string longer than ${limits.maxStringLength} characters`);
        return out;
      }
      if (c === 92) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
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
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail(path, 'invalid \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            fail(path, 'invalid escape');
        }
        start = i;
        if (out.length > limits.maxStringLength) fail(path, `string longer than ${limits.maxStringLength} characters`);
        continue;
      }
      if (c < 32) fail(path, 'control character in string');
      i++;
    }
    return fail(path, 'unterminated string');
  };
  const num = (path: string): number => {
    const start = i;
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (text[i]! >= '1' && text[i]! <= '9') while (text[i]! >= '0' && text[i]! <= '9') i++;
    else fail(path, 'invalid number');
    if (text[i] === '.') {
      i++;
      if (!(text[i]! >= '0' && text[i]! <= '9')) fail(path, 'invalid number');
      while (text[i]! >= '0' && text[i]! <= '9') i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!(text[i]! >= '0' && text[i]! <= '9')) fail(path, 'invalid number');
      while (text[i]! >= '0' && text[i]! <= '9') i++;
    }
    const v = Number(text.slice(start, i));
    if (!Number.isFinite(v) || Math.abs(v) > limits.maxNumber) fail(path, `number larger than ${limits.maxNumber} in magnitude`);
    return v;
  };
  const literal = (word: string, value: unknown, path: string): unknown => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail(path, 'invalid JSON');
  };
  const value = (path: string, depth: number): unknown => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= limits.maxDepth) fail(path, `nested deeper than ${limits.maxDepth} levels`);
      i++;
      ws();
      if (c === '[') {
        const arr: unknown[] = [];
        if (text[i] === ']') {
          i++;
          return arr;
        }
        for (;;) {
          if (arr.length >= limits.maxArrayLength) fail(path, `array longer than ${limits.maxArrayLength} elements`);
          arr.push(value(`${path}[${arr.length}]`, depth + 1));
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            return arr;
          } else fail(path, 'expected , or ]');
        }
      }
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(path, 'expected a property name');
        const key = str(path);
        const kp = `${path}.${key.length > 64 ? key.slice(0, 64) + '…' : key}`;
        if (FORBIDDEN_KEYS.has(key)) fail(kp.replace(/[^\w.[\]-]/g, '?'), 'forbidden property name (prototype pollution)');
        if (seen.has(key)) fail(kp, 'duplicate key');
        seen.add(key);
        if (seen.size > limits.maxKeys) fail(path, `more than ${limits.maxKeys} properties`);
        ws();
        if (text[i] !== ':') fail(kp, 'expected :');
        i++;
        obj[key] = value(kp, depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail(path, 'expected , or }');
      }
    }
    if (c === '"') return str(path);
    if (c === 't') return literal('true', true, path);
    if (c === 'f') return literal('false', false, path);
    if (c === 'n') return literal('null', null, path);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num(path);
    return fail(path, c === undefined ? 'unexpected end of JSON' : 'invalid JSON');
  };
  const result = value('body', 0);
  ws();
  if (i < n) fail('body', 'unexpected data after the JSON value');
  return result;
}
