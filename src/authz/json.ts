/**
 * JSON helpers for object- and property-level checks. Parsers disagree on duplicate keys (first
 * wins in some, last in others) and some upstream frameworks match keys case-insensitively, so a
 * body the gateway reads as `{"tenant":"mine"}` could reach the upstream as someone else's. Bodies
 * with keys repeated in one object, even differing only by case, are therefore refused.
 */
import { RampartError } from '../core/errors.js';

/**
 * Parses a request body for authorization checks; 400 when it is not JSON or repeats a key.
 *
 * @example
 *   parseJsonBody(Buffer.from('{"role":"admin"}')) // { role: 'admin' }
 */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RampartError('RAMPART_BAD_REQUEST', 'The request body must be valid JSON.', { reason: 'authorization needs a JSON body' });
  }
  if (repeatsKey(text)) {
    throw new RampartError('RAMPART_BAD_REQUEST', 'The request body repeats a property name.', { reason: 'duplicate JSON key (compared case-insensitively)' });
  }
  return value;
}

/** True when an object in `text` (valid JSON) has two keys equal ignoring case. */
export function repeatsKey(text: string): boolean {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (text.charCodeAt(j) !== 0x22) {
        if (text.charCodeAt(j) === 0x5c /* \ */) {
          escaped = true;
          j++;
        }
        j++;
      }
      if (expectKey) {
        const key = (escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j)).toLowerCase();
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Values at a dotted path, exact key match; arrays on the way (including a top-level array)
 * contribute each element.
 *
 * @example
 *   valuesAt({ items: [{ owner: 'a' }, { owner: 'b' }] }, ['items', 'owner']) // ['a', 'b']
 */
export function valuesAt(value: unknown, path: readonly string[], from = 0, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) {
    for (const item of value) valuesAt(item, path, from, out);
    return out;
  }
  if (from === path.length) {
    out.push(value);
    return out;
  }
  if (isObject(value) && Object.hasOwn(value, path[from]!)) valuesAt(value[path[from]!], path, from + 1, out);
  return out;
}

/** Keys of `obj` equal to `name` ignoring case (a forbidden field hides behind no capitalisation). */
function keysLike(obj: Record<string, unknown>, lowerName: string): string[] {
  return Object.keys(obj).filter((k) => k.length === lowerName.length && k.toLowerCase() === lowerName);
}

/** True when the dotted path (lower-case segments) is present, matching keys case-insensitively. */
export function hasField(value: unknown, lowerPath: readonly string[], from = 0): boolean {
  if (Array.isArray(value)) return value.some((item) => hasField(item, lowerPath, from));
  if (!isObject(value)) return false;
  const keys = keysLike(value, lowerPath[from]!);
  if (from === lowerPath.length - 1) return keys.length > 0;
  return keys.some((k) => hasField(value[k], lowerPath, from + 1));
}

/** Deletes the dotted path (lower-case segments) in place, matching keys case-insensitively; true when something was removed. */
export function removeField(value: unknown, lowerPath: readonly string[], from = 0): boolean {
  if (Array.isArray(value)) {
    let removed = false;
    for (const item of value) removed = removeField(item, lowerPath, from) || removed;
    return removed;
  }
  if (!isObject(value)) return false;
  let removed = false;
  for (const k of keysLike(value, lowerPath[from]!)) {
    if (from === lowerPath.length - 1) {
      delete value[k];
      removed = true;
    } else {
      removed = removeField(value[k], lowerPath, from + 1) || removed;
    }
  }
  return removed;
}
