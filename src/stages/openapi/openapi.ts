import { resolve } from 'node:path';
import { z } from 'zod';
import type { RequestContext } from '../../core/context.js';
import type { Stage } from '../../core/stage.js';
import { RampartError } from '../../core/errors.js';
import { loadOpenApi, OpenApiLoadError } from '../../openapi/document.js';
import { Contract, describeError, type Operation } from '../../openapi/validator.js';
import { isJsonType, mediaTypeOf, parsedBody, type ParsedBody } from '../../validate/body.js';
import { parseJsonStrict } from '../../validate/json.js';
import { defineStage } from '../definition.js';
import { bodyLimitsSchema } from '../limits.js';

const openapiOptions = z
  .object({
    type: z.literal('openapi'),
    /** OpenAPI 3.0/3.1 document (YAML or JSON), relative to the config file. */
    spec: z.string().min(1),
    /** Request-path prefix the document's paths are relative to (e.g. `/api`); '' = none. */
    basePath: z
      .string()
      .refine((v) => v === '' || (v.startsWith('/') && !v.endsWith('/') && !/[?#\s]/.test(v)), 'must be empty or start with / and not end with /')
      .default(''),
    /** Accept query parameters the document does not declare. */
    allowUnknownQuery: z.boolean().default(false),
    /** Accept body properties that a schema does not declare (when the schema itself does not say). */
    allowUnknownProperties: z.boolean().default(false),
    /**
     * Responses: `off` (default), `filter` (remove properties the document does not declare and
     * record a `response.leak` event), `enforce` (filter, and answer 502 when the rest does not match).
     */
    responses: z.enum(['off', 'filter', 'enforce']).default('off'),
    limits: bodyLimitsSchema,
  })
  .strict();

/** The operation of each request whose response a filter may apply to. */
const operations = new WeakMap<RequestContext, Operation>();

/** Number of object properties in a JSON value, at every depth. */
function countProperties(v: unknown): number {
  if (Array.isArray(v)) {
    let n = 0;
    for (const x of v) n += countProperties(x);
    return n;
  }
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  for (const k in v) n += 1 + countProperties((v as Record<string, unknown>)[k]);
  return n;
}

/** The outermost properties present in `original` and absent from `filtered` (the same value with properties deleted). */
function removedPaths(original: unknown, filtered: unknown, prefix: string, out: string[]): string[] {
  if (Array.isArray(original)) {
    original.forEach((x, i) => removedPaths(x, (filtered as unknown[])[i], `${prefix}[]`, out));
  } else if (original !== null && typeof original === 'object') {
    const kept = filtered as Record<string, unknown>;
    for (const [k, child] of Object.entries(original)) {
      if (!Object.hasOwn(kept, k)) out.push(`${prefix}.${k}`);
      else removedPaths(child, kept[k], `${prefix}.${k}`, out);
    }
  }
  return out;
}

/**
 * OpenAPI contract enforcement (validate phase): the operation must exist in the document (404/405),
 * parameters and body must match it, unknown parameters/properties and read-only properties are
 * refused, structural limits always apply; optionally responses are filtered to the document
 * (undeclared and write-only properties removed).
 *
 * @example
 *   stages: [{ type: openapi, spec: pets.openapi.yaml, responses: filter }]
 */
export const openapiStage = defineStage({
  type: 'openapi',
  phase: 'validate',
  options: openapiOptions,
  create(options, deps): Stage {
    let contract: Contract;
    try {
      contract = new Contract(loadOpenApi(resolve(deps.baseDir, options.spec)), options);
    } catch (err) {
      if (err instanceof OpenApiLoadError) throw new Error(`openapi stage: ${err.message}`);
      throw new Error(`openapi stage: cannot compile ${options.spec}: ${(err as Error).message}`);
    }
    const limits = options.limits;
    // Responses come from the upstream the document describes: no string-length limit of their own.
    const responseLimits = { ...limits, maxStringLength: Number.MAX_SAFE_INTEGER };
    const filtering = options.responses !== 'off';
    // The document describes the upstream, which sees the path after the route's stripPrefix.
    const strip = deps.route?.stripPrefix;
    const upstreamPath = (p: string): string => (strip !== undefined && p.startsWith(strip) ? p.slice(strip.length) || '/' : p);

    const checkBody = (ctx: RequestContext, op: Operation, body: ParsedBody): void => {
      if (body.kind === 'none') {
        if (op.body?.required === true) throw new RampartError('RAMPART_VALIDATION_FAILED', 'body: is required');
        return;
      }
      if (op.body === undefined) throw new RampartError('RAMPART_VALIDATION_FAILED', 'body: this operation takes no request body');
      const validators = contract.bodyValidator(op, body.mediaType);
      let data: unknown;
      let validate = validators.json;
      if (body.kind === 'json') data = body.value;
      else if (body.kind === 'form' || body.kind === 'multipart') {
        // Form fields are strings on the wire: the coercing validator turns them into the schema's types.
        const fields: Record<string, unknown> = { ...body.value };
        if (body.kind === 'multipart') for (const f of body.files) fields[f.field] ??= '';
        data = fields;
        validate = validators.form;
      } else if (body.kind === 'text') data = body.value;
      else return;
      if (validate !== undefined && !validate(data)) throw new RampartError('RAMPART_VALIDATION_FAILED', describeError('body', validate.errors![0]!));
    };

    const stage: Stage = {
      name: 'openapi',
      phase: 'validate',
      // Synchronous unless there is a body to read: no promise for bodiless requests.
      handle(ctx) {
        const { op, pathParams } = contract.match(ctx.method, upstreamPath(ctx.rawPath));
        if (filtering && op.responses.size > 0) operations.set(ctx, op);
        contract.checkParameters(op, pathParams, ctx.query, ctx.req.headers);
        if (ctx.hasBody) {
          const body = parsedBody(ctx, limits);
          if (body instanceof Promise) return body.then((b) => checkBody(ctx, op, b));
          checkBody(ctx, op, body);
          return undefined;
        }
        if (op.body?.required === true) throw new RampartError('RAMPART_VALIDATION_FAILED', 'body: is required');
        return undefined;
      },
    };
    if (!filtering) return stage;
    return {
      ...stage,
      onResponseHead(ctx, head) {
        const op = operations.get(ctx);
        if (op === undefined || contract.responseFilter(op, head.statusCode) === undefined) return;
        const type = head.headers['content-type'];
        if (isJsonType(mediaTypeOf(Array.isArray(type) ? type[0] : type).type)) ctx.responseBuffered = true;
      },
      onResponseBody(ctx, head, buf) {
        const op = operations.get(ctx);
        const filter = op === undefined ? undefined : contract.responseFilter(op, head.statusCode);
        if (filter === undefined || buf.length === 0) return buf;
        let value: unknown;
        try {
          value = parseJsonStrict(buf.toString('utf8'), responseLimits);
        } catch {
          // Declared JSON that the strict parser refuses (duplicate keys, past the limits…) cannot be
          // filtered; passing it on unfiltered could leak what filtering exists to remove. Fail closed.
          throw new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream response does not match the API contract.', { reason: 'response body is not valid JSON; it could not be filtered' });
        }
        // Filtering only ever deletes properties (undeclared, write-only): a count tells whether it did.
        const before = countProperties(value);
        const error = filter(value);
        const changed = countProperties(value) !== before;
        if (changed) {
          const removed = removedPaths(parseJsonStrict(buf.toString('utf8'), responseLimits), value, 'body', []);
          ctx.emit({ type: 'response.leak', severity: 'medium', source: 'openapi', reason: `upstream sent ${removed.length} undeclared or write-only propert${removed.length === 1 ? 'y' : 'ies'}`, data: { operation: op!.id, removed: removed.slice(0, 50) } });
        }
        if (error !== undefined && options.responses === 'enforce') {
          throw new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream response does not match the API contract.', { reason: describeError('response', error) });
        }
        return changed ? Buffer.from(JSON.stringify(value)) : buf;
      },
    };
  },
});
