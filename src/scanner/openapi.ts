/**
 * Just enough OpenAPI 3.x for the scanner and the linter: load a document, resolve its local
 * `$ref`s (never remote ones: the scanner contacts nothing but the target), list operations with
 * their effective security, and build plausible example values from schemas.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export type JsonSchema = {
  type?: string | string[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  readOnly?: boolean;
  additionalProperties?: boolean | JsonSchema;
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  [extension: `x-${string}`]: unknown;
};

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonSchema;
  [extension: `x-${string}`]: unknown;
}

export interface Operation {
  method: string;
  /** Path template as in the spec, e.g. `/notes/{id}`. */
  path: string;
  operationId: string | undefined;
  tags: string[];
  parameters: Parameter[];
  /** JSON request body schema, if the operation takes one. */
  body: JsonSchema | undefined;
  bodyRequired: boolean;
  /** Schema of the first 2xx JSON response. */
  response: JsonSchema | undefined;
  /** Effective security requirements: [] means explicitly public. */
  security: Record<string, string[]>[];
  /** The raw operation object, for `x-` extensions. */
  raw: Record<string, unknown>;
}

export interface ApiSpec {
  /** The resolved document. */
  doc: Record<string, unknown>;
  version: string;
  servers: string[];
  operations: Operation[];
  securitySchemes: Record<string, Record<string, unknown>>;
}

/** Thrown for a document that cannot be used; the CLI turns it into exit code 2. */
export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Reads an OpenAPI 3.x document (YAML or JSON).
 *
 * @example
 *   const spec = loadSpecFile('openapi.yaml');
 *   for (const op of spec.operations) console.log(op.method, op.path);
 */
export function loadSpecFile(file: string): ApiSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseSpec(text, file);
}

/** Parses and indexes an OpenAPI 3.x document given as text. */
export function parseSpec(text: string, source = '<spec>'): ApiSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new SpecError(`${source}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObject(raw) || typeof raw.openapi !== 'string' || !raw.openapi.startsWith('3.')) {
    throw new SpecError(`${source}: not an OpenAPI 3.x document (no "openapi: 3.x" field)`);
  }
  if (!isObject(raw.paths)) throw new SpecError(`${source}: the document has no "paths"`);
  const doc = resolveRefs(raw, raw, new Set(), 0) as Record<string, unknown>;
  const components = isObject(doc.components) ? doc.components : {};
  const securitySchemes = (isObject(components.securitySchemes) ? components.securitySchemes : {}) as Record<string, Record<string, unknown>>;
  const globalSecurity = Array.isArray(doc.security) ? (doc.security as Record<string, string[]>[]) : [];
  const servers = Array.isArray(doc.servers) ? doc.servers.filter(isObject).map((s) => String(s.url ?? '')) : [];
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, unknown>)) {
    if (!isObject(item)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const params = new Map<string, Parameter>();
      for (const p of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        if (!isObject(p) || typeof p.name !== 'string') continue;
        const where = p.in as Parameter['in'];
        params.set(`${where}:${p.name}`, { ...p, name: p.name, in: where, required: p.required === true || where === 'path', schema: (isObject(p.schema) ? p.schema : {}) as JsonSchema });
      }
      const reqBody = isObject(op.requestBody) ? op.requestBody : undefined;
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: typeof op.operationId === 'string' ? op.operationId : undefined,
        tags: Array.isArray(op.tags) ? op.tags.map(String) : [],
        parameters: [...params.values()],
        body: jsonSchemaOf(reqBody?.content),
        bodyRequired: reqBody?.required === true,
        response: firstSuccessSchema(op.responses),
        security: Array.isArray(op.security) ? (op.security as Record<string, string[]>[]) : globalSecurity,
        raw: op,
      });
    }
  }
  return { doc, version: raw.openapi, servers, operations, securitySchemes };
}

function jsonSchemaOf(content: unknown): JsonSchema | undefined {
  if (!isObject(content)) return undefined;
  const key = Object.keys(content).find((k) => /^application\/([\w.+-]*\+)?json/i.test(k));
  if (key === undefined) return undefined;
  const media = content[key];
  return isObject(media) && isObject(media.schema) ? (media.schema as JsonSchema) : {};
}

function firstSuccessSchema(responses: unknown): JsonSchema | undefined {
  if (!isObject(responses)) return undefined;
  const code = Object.keys(responses).sort().find((c) => /^2(\d\d|XX)$/i.test(c));
  const res = code === undefined ? undefined : responses[code];
  return isObject(res) ? jsonSchemaOf(res.content) : undefined;
}

/** Inlines `#/...` references; cycles are cut with an empty schema, remote refs are refused. */
function resolveRefs(value: unknown, root: Record<string, unknown>, seen: Set<string>, depth: number): unknown {
  if (depth > 64) return {};
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, root, seen, depth + 1));
  if (!isObject(value)) return value;
  if (typeof value.$ref === 'string') {
    const ref = value.$ref;
    if (!ref.startsWith('#/')) throw new SpecError(`only local $ref are supported (found ${JSON.stringify(ref.slice(0, 100))})`);
    if (seen.has(ref)) return {};
    let target: unknown = root;
    for (const part of ref.slice(2).split('/')) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      target = isObject(target) ? target[key] : undefined;
    }
    if (target === undefined) throw new SpecError(`unresolved $ref ${JSON.stringify(ref.slice(0, 100))}`);
    return resolveRefs(target, root, new Set([...seen, ref]), depth + 1);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = resolveRefs(v, root, seen, depth + 1);
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The primary type of a schema (`allOf` merged, first of a union). */
export function schemaType(schema: JsonSchema): string | undefined {
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  if (t !== undefined) return t;
  if (schema.properties !== undefined) return 'object';
  if (schema.items !== undefined) return 'array';
  return undefined;
}

/** `allOf` flattened into one object schema; `oneOf`/`anyOf` take their first branch. */
export function flatten(schema: JsonSchema): JsonSchema {
  const branch = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (branch !== undefined) return flatten({ ...schema, oneOf: undefined, anyOf: undefined, ...branch });
  if (schema.allOf === undefined) return schema;
  const parts = schema.allOf.map(flatten);
  return {
    ...schema,
    allOf: undefined,
    type: parts.find((p) => p.type !== undefined)?.type ?? schema.type,
    properties: Object.assign({}, schema.properties, ...parts.map((p) => p.properties ?? {})),
    required: [...(schema.required ?? []), ...parts.flatMap((p) => p.required ?? [])],
  };
}

/** True when a string schema or parameter name says it carries a URL. */
export function isUrlLike(name: string, schema: JsonSchema): boolean {
  return schema.format === 'uri' || schema.format === 'url' || schema.format === 'iri' || /(^|_|-)(url|uri|link|href|webhook|callback|endpoint|src|source)$/i.test(name) || /Url$|Uri$/.test(name);
}

/**
 * A plausible value for a schema: example, default or enum first, then a value shaped by type and
 * format. `writeOnlyReadOnly` decides whether `readOnly` properties are included.
 *
 * @example
 *   sample({ type: 'object', properties: { n: { type: 'integer', minimum: 3 } } }) // { n: 3 }
 */
export function sample(input: JsonSchema, name = '', depth = 0, includeReadOnly = false): unknown {
  const schema = flatten(input);
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum !== undefined && schema.enum.length > 0) return schema.enum[0];
  switch (schemaType(schema)) {
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, Math.min(schema.maximum ?? 1, 1));
    case 'boolean':
      return false;
    case 'array':
      return depth > 4 || schema.items === undefined ? [] : [sample(schema.items, name, depth + 1, includeReadOnly)];
    case 'object': {
      const out: Record<string, unknown> = {};
      if (depth > 4) return out;
      for (const [key, prop] of Object.entries(schema.properties ?? {})) {
        if (prop.readOnly === true && !includeReadOnly) continue;
        out[key] = sample(prop, key, depth + 1, includeReadOnly);
      }
      return out;
    }
    default:
      return sampleString(schema, name);
  }
}

function sampleString(schema: JsonSchema, name: string): string {
  if (isUrlLike(name, schema)) return 'https://example.com/';
  switch (schema.format) {
    case 'email':
      return 'scan@example.com';
    case 'date':
      return '2024-01-01';
    case 'date-time':
      return '2024-01-01T00:00:00Z';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
  }
  const base = `rampart-scan-${name || 'value'}`.replace(/[^a-zA-Z0-9-]/g, '');
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 64;
  return base.padEnd(min, 'x').slice(0, Math.max(max, 1));
}
