/**
 * The compiled contract: for each operation of an OpenAPI document, a path matcher, parameter
 * specs and Ajv validators, built once at config load. Requests are checked against it
 * (parameters, body) and, optionally, responses filtered down to what the document declares.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { SchemaValidateFunction } from 'ajv/dist/types/index.js';
import addFormatsModule from 'ajv-formats';
import { RampartError } from '../core/errors.js';
import { atPointer, pointerToken, type Json, type JsonObject, type OpenApiDocument } from './document.js';
import { defaultStyle, headerValue, pathValue, queryValue, type ParamShape, type ParamSpec, type RawValue } from './params.js';
import { parseQuery } from '../waf/inputs.js';
import { isJsonType } from '../validate/body.js';
import { DEFAULT_JSON_LIMITS, JsonInputError, parseJsonStrict, type JsonLimits } from '../validate/json.js';

// ajv-formats is CommonJS: under NodeNext its default import is the module object holding `default`.
type AddFormats = (ajv: Ajv2020) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats));

/** Where a keyword's value sits (its parent object and property), as Ajv passes it to custom keywords. */
type DataCxt = Parameters<ValidateFunction>[1];

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const LOCATIONS = ['path', 'query', 'header', 'cookie'] as const;
const DOC_ID = 'rampart:openapi';

export interface ContractOptions {
  /** Accept query parameters the document does not declare. */
  readonly allowUnknownQuery: boolean;
  /** Accept body properties the document does not declare (when a schema does not say itself). */
  readonly allowUnknownProperties: boolean;
  /** Prefix of request paths that the document's paths are relative to (e.g. `/api`). */
  readonly basePath: string;
  /** Structural limits on JSON-valued parameters (`content: {application/json: …}`); default {@link DEFAULT_JSON_LIMITS}. */
  readonly limits?: JsonLimits;
}

interface CompiledParam {
  readonly spec: ParamSpec;
  readonly required: boolean;
  /**
   * A parameter described with `content` instead of `schema`: its value is one serialized
   * document of that media type (JSON is parsed first), validated without coercion.
   */
  readonly content?: { readonly json: boolean; readonly validate: ValidateFunction };
}

interface CompiledBody {
  readonly required: boolean;
  /** Media-type ranges declared, most specific first, with their validators (JSON and coercing for forms). */
  readonly content: ReadonlyArray<{ range: string; json?: ValidateFunction; form?: ValidateFunction }>;
}

export interface Operation {
  readonly id: string;
  readonly method: string;
  readonly pathTemplate: string;
  readonly params: readonly CompiledParam[];
  /** One coercing validator per location over `{ name: value }`. */
  readonly paramValidators: Partial<Record<ParamSpec['in'], ValidateFunction>>;
  readonly body: CompiledBody | undefined;
  /** status ('200', '2XX', 'default') → JSON response filter/validator. */
  readonly responses: ReadonlyMap<string, ResponseFilter>;
}

interface PathEntry {
  readonly template: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly literalSegments: number;
  readonly operations: ReadonlyMap<string, Operation>;
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Follows `$ref`s (bundled documents only have local ones) and returns the node with its pointer. */
function deref(doc: JsonObject, node: Json | undefined, pointer: string): { node: Json | undefined; pointer: string } {
  let n = node;
  let p = pointer;
  for (let hops = 0; hops < 32 && isObject(n) && typeof n.$ref === 'string'; hops++) {
    p = n.$ref;
    n = atPointer(doc, p);
  }
  return { node: n, pointer: p };
}

/** Marks every object schema that is not a member of a composition as closed to unknown properties. */
function closeObjects(doc: JsonObject): void {
  const composed = new Set<Json>();
  const collect = (node: Json): void => {
    if (Array.isArray(node)) return node.forEach(collect);
    if (!isObject(node)) return;
    for (const k of ['allOf', 'anyOf', 'oneOf']) {
      const list = node[k];
      if (Array.isArray(list)) for (const member of list) composed.add(isObject(member) && typeof member.$ref === 'string' ? (atPointer(doc, member.$ref) ?? member) : member);
    }
    for (const key in node) collect(node[key]!);
  };
  collect(doc);
  const visit = (node: Json): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    const objectish = node.type === 'object' || isObject(node.properties) || Array.isArray(node.allOf);
    if (objectish && !composed.has(node) && !('additionalProperties' in node) && !('unevaluatedProperties' in node) && !('patternProperties' in node)) {
      node.unevaluatedProperties = false;
    }
    for (const key in node) visit(node[key]!);
  };
  visit(doc);
}

/**
 * Removes from `required` the properties marked `flag` (OpenAPI: a required `readOnly` property is
 * required in responses only, a required `writeOnly` one in requests only), in place.
 */
function notRequiredWhen(doc: JsonObject, flag: 'readOnly' | 'writeOnly'): void {
  const visit = (node: Json): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    const { required, properties } = node;
    if (Array.isArray(required) && isObject(properties)) {
      node.required = required.filter((name) => {
        const prop = typeof name === 'string' ? deref(doc, properties[name], '').node : undefined;
        return !(isObject(prop) && prop[flag] === true);
      });
    }
    for (const key in node) visit(node[key]!);
  };
  visit(doc);
}

/** Surrogate pairs: one character each, for JSON Schema string lengths count code points. */
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

function codePoints(s: string): number {
  return s.length - (s.match(SURROGATE_PAIR)?.length ?? 0);
}

/**
 * `maxLength` and `minLength` with Ajv's meaning and messages, counting characters only when the
 * UTF-16 length does not decide (a string has at most `length` and at least `length / 2` code
 * points). Ajv's own count loops over every string it checks: ~2 µs per request for a 1 KB text field.
 */
function lengthKeywords(ajv: Ajv2020): void {
  const limits = [
    ['maxLength', 'more', (s: string, limit: number) => s.length <= limit || codePoints(s) <= limit],
    ['minLength', 'fewer', (s: string, limit: number) => s.length >= 2 * limit || (s.length >= limit && codePoints(s) >= limit)],
  ] as const;
  for (const [keyword, comparison, fits] of limits) {
    const validate: SchemaValidateFunction = (limit: number, data: string) => {
      if (fits(data, limit)) return true;
      validate.errors = [{ keyword, message: `must NOT have ${comparison} than ${limit} characters`, params: { limit } }];
      return false;
    };
    ajv.removeKeyword(keyword);
    ajv.addKeyword({ keyword, type: 'string', schemaType: 'number', validate });
  }
}

/** The entry's operation for a method (HEAD falls back to GET). */
function operationOf(entry: PathEntry, method: string): Operation | undefined {
  return entry.operations.get(method) ?? (method === 'HEAD' ? entry.operations.get('GET') : undefined);
}

/** `a=1; b=x=y` → {a: '1', b: 'x=y'} (a value runs from the first `=` to the `;`). */
function cookieMap(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of String(header ?? '').split(';')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name !== '') out.set(name, eq === -1 ? '' : part.slice(eq + 1).trim());
  }
  return out;
}

function shapeOf(schema: Json | undefined): ParamShape {
  if (!isObject(schema)) return 'primitive';
  const t = schema.type;
  if (t === 'array' || (Array.isArray(t) && t.includes('array'))) return 'array';
  if (t === 'object' || (Array.isArray(t) && t.includes('object')) || isObject(schema.properties)) return 'object';
  return 'primitive';
}

/** Ajv error → `body.address.zip: must match pattern "…"` (names the place, never echoes the value). */
export function describeError(location: string, e: ErrorObject): string {
  let path = location;
  for (const part of e.instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(key) ? `[${key}]` : `.${key.slice(0, 64)}`;
  }
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required') return `${path}.${String(params.missingProperty).slice(0, 64)}: is required`;
  if (e.keyword === 'unevaluatedProperties' || e.keyword === 'additionalProperties') {
    const name = String(params.unevaluatedProperty ?? params.additionalProperty).slice(0, 64);
    return `${path}.${name.replace(/[^\w.-]/g, '?')}: is not a known property`;
  }
  if (e.keyword === 'readOnly') return `${path}: is read-only and cannot be sent`;
  return `${path}: ${e.message ?? 'is invalid'}`;
}

function fail(detail: string): RampartError {
  return new RampartError('RAMPART_VALIDATION_FAILED', detail);
}

/**
 * Filters a parsed response body in place down to what the document declares, then validates what
 * is left: returns the first remaining error, or undefined when the body conforms.
 */
export type ResponseFilter = (value: unknown) => ErrorObject | undefined;

/** Most removal rounds: removing a property can change which `anyOf`/`oneOf` branch matches. */
const FILTER_ROUNDS = 8;

/**
 * Why not Ajv's `removeAdditional: 'all'`: it removes every property not listed in the `properties`
 * of the schema being applied, so an `allOf` of a base and an extension loses the extension's
 * fields, and a map (`additionalProperties: {…}`) is emptied: silent data loss for legitimate
 * responses. Here objects are closed with `unevaluatedProperties: false` (composition-aware:
 * properties any applied subschema evaluates are kept) and only the properties the validator
 * reports as undeclared are deleted; write-only ones go through the `writeOnly` keyword.
 */
function responseFilter(validate: ValidateFunction): ResponseFilter {
  return (value) => {
    for (let round = 0; round < FILTER_ROUNDS; round++) {
      if (validate(value)) return undefined;
      const errors = validate.errors!;
      let removed = false;
      for (const e of errors) {
        const name = e.keyword === 'unevaluatedProperties' ? e.params.unevaluatedProperty : e.keyword === 'additionalProperties' ? e.params.additionalProperty : undefined;
        if (typeof name !== 'string') continue;
        const parent = atInstancePath(value, e.instancePath);
        if (parent !== undefined && Object.hasOwn(parent, name)) {
          delete parent[name];
          removed = true;
        }
      }
      if (!removed) return errors.find((e) => e.keyword !== 'unevaluatedProperties' && e.keyword !== 'additionalProperties') ?? errors[0];
    }
    return validate(value) ? undefined : validate.errors![0];
  };
}

/** The object at an Ajv instance path (a JSON pointer into the data), or undefined. */
function atInstancePath(value: unknown, path: string): Record<string, unknown> | undefined {
  let node = value;
  if (path !== '') {
    for (const raw of path.slice(1).split('/')) {
      if (typeof node !== 'object' || node === null) return undefined;
      const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (!Object.hasOwn(node, token)) return undefined;
      node = (node as Record<string, unknown>)[token];
    }
  }
  return typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
}

/**
 * The compiled document.
 *
 * @example
 *   const contract = new Contract(loadOpenApi('pets.yaml'), { allowUnknownQuery: false, allowUnknownProperties: false, basePath: '' });
 *   const op = contract.match('GET', '/pets/1'); // throws 404/405 when the document has no such operation
 */
export class Contract {
  private readonly paths: PathEntry[] = [];
  /** Templates without parameters, by path: an exact hit wins over every template (it has more literal segments). */
  private readonly literal = new Map<string, PathEntry>();
  private readonly limits: JsonLimits;

  constructor(api: OpenApiDocument, private readonly options: ContractOptions) {
    this.limits = options.limits ?? DEFAULT_JSON_LIMITS;
    const requestDoc = structuredClone(api.doc);
    if (!options.allowUnknownProperties) closeObjects(requestDoc);
    notRequiredWhen(requestDoc, 'readOnly');
    // Responses: objects are closed the same way, and what the closure reports is removed (see filterResponse).
    const responseDoc = structuredClone(api.doc);
    closeObjects(responseDoc);
    notRequiredWhen(responseDoc, 'writeOnly');
    const common = { strict: false, allErrors: false, validateSchema: false, discriminator: false, logger: false } as const;
    const request = new Ajv2020({ ...common });
    const form = new Ajv2020({ ...common, coerceTypes: 'array' });
    // Every error at once: each undeclared property is one error to act on.
    const response = new Ajv2020({ ...common, allErrors: true });
    for (const ajv of [request, form, response]) {
      addFormats(ajv);
      // OpenAPI's file formats: the bytes are not JSON, the upload stage inspects them.
      ajv.addFormat('binary', true);
      lengthKeywords(ajv);
    }
    // readOnly properties may appear in responses only: a client sending one is attempting mass assignment.
    for (const ajv of [request, form]) {
      ajv.removeKeyword('readOnly');
      ajv.addKeyword({ keyword: 'readOnly', schemaType: 'boolean', validate: (s: boolean) => !s, errors: false });
    }
    // writeOnly properties may appear in requests only (a password, its hash): an upstream returning
    // one leaks it, so it is removed like an undeclared property. Outside an object (an array item,
    // the whole body) it cannot be removed: the response is invalid then.
    response.removeKeyword('writeOnly');
    response.addKeyword({
      keyword: 'writeOnly',
      schemaType: 'boolean',
      modifying: true,
      errors: false,
      validate: (s: boolean, _data: unknown, _schema: unknown, cxt: DataCxt) => {
        if (!s) return true;
        const parent: unknown = cxt?.parentData;
        if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) return false;
        delete (parent as Record<string, unknown>)[cxt!.parentDataProperty];
        return true;
      },
    });
    request.addSchema(requestDoc, DOC_ID);
    form.addSchema(requestDoc, DOC_ID);
    response.addSchema(responseDoc, DOC_ID);
    const ref = (pointer: string): JsonObject => ({ $ref: `${DOC_ID}${pointer}` });

    const doc = api.doc;
    const paths = isObject(doc.paths) ? doc.paths : {};
    for (const [template, rawItem] of Object.entries(paths)) {
      const itemPointer = `#/paths/${pointerToken(template)}`;
      const { node: item, pointer: itemPtr } = deref(doc, rawItem, itemPointer);
      if (!isObject(item)) continue;
      const operations = new Map<string, Operation>();
      for (const method of METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        const opPtr = `${itemPtr}/${method}`;
        // Path-level parameters apply unless the operation redefines the same name+location.
        const params = new Map<string, { node: JsonObject; pointer: string }>();
        for (const [list, base] of [[item.parameters, `${itemPtr}/parameters`], [op.parameters, `${opPtr}/parameters`]] as const) {
          if (!Array.isArray(list)) continue;
          list.forEach((p, i) => {
            const r = deref(doc, p, `${base}/${i}`);
            if (isObject(r.node) && typeof r.node.name === 'string' && typeof r.node.in === 'string') params.set(`${r.node.in}:${r.node.in === 'header' ? r.node.name.toLowerCase() : r.node.name}`, { node: r.node, pointer: r.pointer });
          });
        }
        const compiledParams: CompiledParam[] = [];
        const byLocation: Partial<Record<ParamSpec['in'], { properties: JsonObject; required: string[] }>> = {};
        for (const { node, pointer } of params.values()) {
          const location = node.in as ParamSpec['in'];
          if (!['path', 'query', 'header', 'cookie'].includes(location)) continue;
          const name = location === 'header' ? (node.name as string).toLowerCase() : (node.name as string);
          const content = this.contentOf(node, pointer, request);
          const schemaPtr = isObject(node.schema) ? `${pointer}/schema` : undefined;
          const schema = schemaPtr === undefined ? undefined : deref(doc, node.schema, schemaPtr).node;
          const style = typeof node.style === 'string' ? node.style : defaultStyle(location);
          const explode = typeof node.explode === 'boolean' ? node.explode : style === 'form';
          const shape = shapeOf(schema);
          const properties = isObject(schema) && isObject(schema.properties) ? Object.keys(schema.properties) : [];
          const required = node.required === true || location === 'path';
          compiledParams.push({ spec: { name, in: location, style, explode, shape, properties }, required, content });
          const loc = (byLocation[location] ??= { properties: {}, required: [] });
          // A content parameter's value is checked on its own (see `contentValue`); here only its presence.
          loc.properties[name] = content !== undefined ? {} : schemaPtr === undefined ? { type: 'string' } : ref(schemaPtr);
          if (required) loc.required.push(name);
        }
        const paramValidators: Operation['paramValidators'] = {};
        for (const [location, s] of Object.entries(byLocation)) {
          paramValidators[location as ParamSpec['in']] = form.compile({ type: 'object', properties: s.properties, required: s.required });
        }
        let body: CompiledBody | undefined;
        const rb = deref(doc, op.requestBody, `${opPtr}/requestBody`);
        if (isObject(rb.node) && isObject(rb.node.content)) {
          const content: Array<{ range: string; json?: ValidateFunction; form?: ValidateFunction }> = [];
          for (const [range, media] of Object.entries(rb.node.content)) {
            const schemaPtr = `${rb.pointer}/content/${pointerToken(range)}/schema`;
            const hasSchema = isObject(media) && (isObject(media.schema) || typeof media.schema === 'boolean');
            content.push({
              range: range.toLowerCase().split(';')[0]!.trim(),
              json: hasSchema ? request.compile(ref(schemaPtr)) : undefined,
              form: hasSchema ? form.compile(ref(schemaPtr)) : undefined,
            });
          }
          // Most specific first: exact types, then `type/*`, then `*/*`.
          content.sort((a, b) => Number(a.range.includes('*')) - Number(b.range.includes('*')) || Number(a.range === '*/*') - Number(b.range === '*/*'));
          body = { required: rb.node.required === true, content };
        }
        const responses = new Map<string, ResponseFilter>();
        if (isObject(op.responses)) {
          for (const [status, rawResp] of Object.entries(op.responses)) {
            const r = deref(doc, rawResp, `${opPtr}/responses/${pointerToken(status)}`);
            if (!isObject(r.node) || !isObject(r.node.content)) continue;
            const jsonType = Object.keys(r.node.content).find((t) => isJsonType(t.toLowerCase().split(';')[0]!.trim()));
            if (jsonType === undefined) continue;
            const media = r.node.content[jsonType];
            if (isObject(media) && isObject(media.schema)) responses.set(status.toUpperCase(), responseFilter(response.compile(ref(`${r.pointer}/content/${pointerToken(jsonType)}/schema`))));
          }
        }
        const id = typeof op.operationId === 'string' ? op.operationId : `${method.toUpperCase()} ${template}`;
        operations.set(method.toUpperCase(), { id, method: method.toUpperCase(), pathTemplate: template, params: compiledParams, paramValidators, body, responses });
      }
      const names: string[] = [];
      let literalSegments = 0;
      const pattern = template
        .split('/')
        .map((seg) => {
          if (!seg.includes('{')) {
            literalSegments++;
            return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          }
          return seg.replace(/\{([^}]+)\}|([^{]+)/g, (_m, name: string | undefined, lit: string | undefined) => {
            if (name !== undefined) {
              names.push(name);
              return '([^/]+)';
            }
            return lit!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          });
        })
        .join('/');
      const entry = { template, regex: new RegExp(`^${pattern}$`), names, literalSegments, operations };
      this.paths.push(entry);
      if (names.length === 0) this.literal.set(template, entry);
    }
    // Concrete paths win over templated ones (`/pets/mine` before `/pets/{id}`).
    this.paths.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Finds the operation; 404 when no path matches, 405 (with Allow) when the path has no such method. */
  match(method: string, rawPath: string): { op: Operation; pathParams: Record<string, string> } {
    let path = rawPath;
    if (this.options.basePath !== '') {
      if (!path.startsWith(this.options.basePath)) throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No operation of the API matches this request.');
      path = path.slice(this.options.basePath.length) || '/';
    }
    const exact = this.literal.get(path);
    const exactOp = exact === undefined ? undefined : operationOf(exact, method);
    if (exactOp !== undefined) return { op: exactOp, pathParams: {} };
    const allowed = new Set<string>();
    for (const entry of this.paths) {
      const m = entry.regex.exec(path);
      if (m === null) continue;
      const op = operationOf(entry, method);
      if (op === undefined) {
        for (const k of entry.operations.keys()) allowed.add(k);
        continue;
      }
      const pathParams: Record<string, string> = {};
      entry.names.forEach((name, i) => (pathParams[name] = m[i + 1]!));
      return { op, pathParams };
    }
    if (allowed.size > 0) throw new RampartError('RAMPART_METHOD_NOT_ALLOWED', `${method} is not an operation of this path.`, { headers: { allow: [...allowed].join(', ') } });
    throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No operation of the API matches this request.');
  }

  /** Checks path, query, header and cookie parameters. Throws RAMPART_VALIDATION_FAILED. */
  checkParameters(op: Operation, pathParams: Record<string, string>, query: string, headers: Readonly<Record<string, string | string[] | undefined>>): void {
    if (op.params.length === 0 && query === '') return;
    const pairs = parseQuery(query);
    const used = new Set<string>();
    const values: Partial<Record<ParamSpec['in'], Record<string, unknown>>> = {};
    let cookies: Map<string, string> | undefined;
    for (const param of op.params) {
      const { spec } = param;
      let v: RawValue | undefined;
      if (spec.in === 'path') {
        const raw = pathParams[spec.name];
        if (raw === undefined) continue;
        let decoded: RawValue | undefined;
        try {
          decoded = pathValue(spec, raw);
          if (typeof decoded === 'string') decoded = decodeURIComponent(decoded);
          else if (Array.isArray(decoded)) decoded = decoded.map((x) => decodeURIComponent(x));
        } catch {
          throw fail(`path.${spec.name}: invalid percent-encoding`);
        }
        if (decoded === undefined) throw fail(`path.${spec.name}: does not use the ${spec.style} style`);
        v = decoded;
      } else if (spec.in === 'query') v = queryValue(spec, pairs, used);
      else if (spec.in === 'header') {
        const h = headers[spec.name];
        if (h !== undefined) v = headerValue(spec, Array.isArray(h) ? h.join(', ') : h);
      } else {
        cookies ??= cookieMap(headers.cookie);
        const c = cookies.get(spec.name);
        if (c !== undefined) v = headerValue(spec, c);
      }
      if (v !== undefined) (values[spec.in] ??= {})[spec.name] = param.content === undefined ? v : this.contentValue(spec, param.content, v);
    }
    if (!this.options.allowUnknownQuery) {
      for (const [k] of pairs) if (!used.has(k)) throw fail(`query.${k.slice(0, 64).replace(/[^\w.[\]-]/g, '?')}: is not a known parameter`);
    }
    for (const location of LOCATIONS) {
      const validate = op.paramValidators[location];
      if (validate === undefined) continue;
      const data = values[location] ?? {};
      if (!validate(data)) throw fail(describeError(location, validate.errors![0]!));
    }
  }

  /** Compiles a parameter's `content` (one media type → schema), or undefined when it has none. */
  private contentOf(param: JsonObject, pointer: string, ajv: Ajv2020): CompiledParam['content'] {
    if (!isObject(param.content)) return undefined;
    // The content map holds exactly one entry (OpenAPI 3.x, Parameter Object).
    const [mediaType, media] = Object.entries(param.content)[0] ?? [];
    if (mediaType === undefined) return undefined;
    const hasSchema = isObject(media) && (isObject(media.schema) || typeof media.schema === 'boolean');
    return {
      json: isJsonType(mediaType.toLowerCase().split(';')[0]!.trim()),
      validate: ajv.compile(hasSchema ? { $ref: `${DOC_ID}${pointer}/content/${pointerToken(mediaType)}/schema` } : {}),
    };
  }

  /** A content parameter's value: one serialized document (parsed when JSON, under the structural limits), validated. */
  private contentValue(spec: ParamSpec, content: NonNullable<CompiledParam['content']>, raw: RawValue): unknown {
    const where = `${spec.in}.${spec.name}`;
    if (typeof raw !== 'string') throw fail(`${where}: must be a single value`);
    let value: unknown = raw;
    if (content.json) {
      try {
        value = parseJsonStrict(raw, this.limits);
      } catch (err) {
        // The parser names places from `body`; this document is the parameter.
        if (err instanceof JsonInputError) throw fail(`${where}${err.path.slice('body'.length)}: ${err.problem}`);
        throw err;
      }
    }
    if (!content.validate(value)) throw fail(describeError(where, content.validate.errors![0]!));
    return value;
  }

  /** Selects the declared media-type range for a request content type, the most specific first (`text/plain`, then `text/*`, then any type), or throws 415. */
  bodyValidator(op: Operation, mediaType: string): { json?: ValidateFunction; form?: ValidateFunction } {
    const body = op.body!;
    let entry = body.content.find((c) => c.range === mediaType);
    if (entry === undefined) {
      const slash = mediaType.indexOf('/');
      const anySubtype = `${slash === -1 ? mediaType : mediaType.slice(0, slash)}/*`;
      entry = body.content.find((c) => c.range === anySubtype) ?? body.content.find((c) => c.range === '*/*');
    }
    if (entry === undefined) {
      throw new RampartError('RAMPART_UNSUPPORTED_MEDIA_TYPE', `This operation accepts ${body.content.map((c) => c.range).join(', ')}.`);
    }
    return entry;
  }

  /** The response filter for a status code (`201`, then `2XX`, then `default`). */
  responseFilter(op: Operation, status: number): ResponseFilter | undefined {
    return op.responses.get(String(status)) ?? op.responses.get(`${String(status)[0]}XX`) ?? op.responses.get('DEFAULT');
  }
}
