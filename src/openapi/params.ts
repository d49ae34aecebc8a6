/**
 * OpenAPI parameter serialization (style/explode) undone into values a JSON Schema can validate.
 * Strings stay strings here; the validator coerces them to the schema's types.
 */

export type ParamShape = 'array' | 'object' | 'primitive';
export type RawValue = string | string[] | Record<string, string>;

export interface ParamSpec {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly style: string;
  readonly explode: boolean;
  readonly shape: ParamShape;
  /** Object properties (for exploded form objects, whose properties arrive as separate query params). */
  readonly properties: readonly string[];
}

/** The default style per location (OpenAPI 3.x §4.8.12.4). */
export function defaultStyle(location: ParamSpec['in']): string {
  return location === 'query' || location === 'cookie' ? 'form' : 'simple';
}

function pairs(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}

function keyValues(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq !== -1) out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Splits a single serialized value by the style's delimiter into the parameter's shape. */
function shaped(spec: ParamSpec, value: string, delimiter: string): RawValue {
  if (spec.shape === 'primitive') return value;
  const parts = value === '' ? [] : value.split(delimiter);
  if (spec.shape === 'array') return parts;
  return spec.explode ? keyValues(parts) : pairs(parts);
}

/**
 * Deserializes a path parameter (simple, label or matrix style).
 *
 * @example
 *   pathValue({ name: 'id', in: 'path', style: 'simple', explode: false, shape: 'array', properties: [] }, '3,4,5') // ['3','4','5']
 */
export function pathValue(spec: ParamSpec, raw: string): RawValue | undefined {
  if (spec.style === 'label') {
    if (!raw.startsWith('.')) return undefined;
    return shaped(spec, raw.slice(1), spec.explode ? '.' : ',');
  }
  if (spec.style === 'matrix') {
    const prefix = `;${spec.name}=`;
    if (spec.shape === 'array' && spec.explode) return raw.split(';').slice(1).map((p) => p.slice(spec.name.length + 1));
    if (spec.shape === 'object' && spec.explode) return keyValues(raw.split(';').slice(1));
    if (!raw.startsWith(prefix)) return undefined;
    return shaped(spec, raw.slice(prefix.length), ',');
  }
  return shaped(spec, raw, ',');
}

/**
 * Deserializes a query parameter from all query pairs; records which names it consumed.
 *
 * @example
 *   queryValue(spec('tags', 'array', 'form', true), [['tags','a'],['tags','b']], used) // ['a','b']
 */
export function queryValue(spec: ParamSpec, query: readonly [string, string][], used: Set<string>): RawValue | undefined {
  if (spec.style === 'deepObject') {
    const out: Record<string, string> = {};
    const prefix = `${spec.name}[`;
    let found = false;
    for (const [k, v] of query) {
      if (k.startsWith(prefix) && k.endsWith(']')) {
        out[k.slice(prefix.length, -1)] = v;
        used.add(k);
        found = true;
      }
    }
    return found ? out : undefined;
  }
  if (spec.shape === 'object' && spec.explode && spec.style === 'form') {
    const out: Record<string, string> = {};
    let found = false;
    for (const [k, v] of query) {
      if (spec.properties.includes(k)) {
        out[k] = v;
        used.add(k);
        found = true;
      }
    }
    return found ? out : undefined;
  }
  const values: string[] = [];
  for (const [k, v] of query) if (k === spec.name) values.push(v);
  if (values.length === 0) return undefined;
  used.add(spec.name);
  if (spec.shape === 'array') {
    if (spec.explode && spec.style === 'form') return values;
    const delimiter = spec.style === 'spaceDelimited' ? ' ' : spec.style === 'pipeDelimited' ? '|' : ',';
    return values[0] === '' ? [] : values[0]!.split(delimiter);
  }
  if (spec.shape === 'object') return pairs(values[0]!.split(','));
  // A repeated primitive is ambiguous: keep them all so validation refuses it (type string ≠ array).
  return values.length === 1 ? values[0]! : values;
}

/** Header (simple style) and cookie (form style) values. */
export function headerValue(spec: ParamSpec, raw: string): RawValue {
  return shaped(spec, spec.shape === 'primitive' ? raw : raw.replace(/\s*,\s*/g, ','), ',');
}
