import { resolve } from 'node:path';
import { z } from 'zod';
import type { RequestContext } from '../../core/context.js';
import { RampartError } from '../../core/errors.js';
import { loadOpenApi, OpenApiLoadError } from '../../openapi/document.js';
import { Contract, describeError, type Operation } from '../../openapi/validator.js';
import { isJsonType, mediaTypeOf, parsedBody } from '../../validate/body.js';
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

const operations = new WeakMap<RequestContext, Operation>();

/** Every property path present in a JSON value (to report what a response filter removed). */
function propertyPaths(v: unknown, prefix: string, out: Set<string>): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => propertyPaths(x, `${prefix}[]`, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) {
      out.add(`${prefix}.${k}`);
      propertyPaths(child, `${prefix}.${k}`, out);
    }
  }
  return out;
}

/**
 * OpenAPI contract enforcement (validate phase): the operation must exist in the document (404/405),
 * parameters and body must match it, unknown parameters/properties and read-only properties are
 * refused, structural limits always apply; optionally responses are filtered to the document.
 *
 * @example
 *   stages: [{ type: openapi, spec: pets.openapi.yaml, responses: filter }]
 */
export const openapiStage = defineStage({
  type: 'openapi',
  phase: 'validate',
  options: openapiOptions,
  create(options, deps) {
    let contract: Contract;
    try {
      contract = new Contract(loadOpenApi(resolve(deps.baseDir, options.spec)), options);
    } catch (err) {
      if (err instanceof OpenApiLoadError) throw new Error(`openapi stage: ${err.message}`);
      throw new Error(`openapi stage: cannot compile ${options.spec}: ${(err as Error).message}`);
    }
    const limits = options.limits;
    // The document describes the upstream, which sees the path after the route's stripPrefix.
    const strip = deps.route?.stripPrefix;
    const upstreamPath = (p: string): string => (strip !== undefined && p.startsWith(strip) ? p.slice(strip.length) || '/' : p);
    return {
      name: 'openapi',
      phase: 'validate',
      async handle(ctx) {
        const { op, pathParams } = contract.match(ctx.method, upstreamPath(ctx.rawPath));
        operations.set(ctx, op);
        contract.checkParameters(op, pathParams, ctx.query, ctx.req.headers);
        const body = await parsedBody(ctx, limits);
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
      },
      onResponseHead(ctx, head) {
        if (options.responses === 'off') return;
        const op = operations.get(ctx);
        if (op === undefined || contract.responseValidator(op, head.statusCode) === undefined) return;
        const type = head.headers['content-type'];
        if (isJsonType(mediaTypeOf(Array.isArray(type) ? type[0] : type).type)) ctx.responseBuffered = true;
      },
      onResponseBody(ctx, head, buf) {
        const op = operations.get(ctx);
        const validate = op === undefined ? undefined : contract.responseValidator(op, head.statusCode);
        if (validate === undefined || buf.length === 0) return buf;
        let value: unknown;
        try {
          value = parseJsonStrict(buf.toString('utf8'), { ...limits, maxStringLength: Number.MAX_SAFE_INTEGER });
        } catch {
          if (options.responses === 'enforce') throw new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream response does not match the API contract.', { reason: 'response body is not valid JSON' });
          return buf;
        }
        const before = propertyPaths(value, 'body', new Set());
        const ok = validate(value);
        const after = propertyPaths(value, 'body', new Set());
        // Report the outermost removed properties only (not every child of a removed object).
        const gone = [...before].filter((p) => !after.has(p));
        const goneSet = new Set(gone);
        const removed = gone.filter((p) => !goneSet.has(p.replace(/\.[^.]*$/, '')));
        if (removed.length > 0) {
          ctx.emit({ type: 'response.leak', severity: 'medium', source: 'openapi', reason: `upstream sent ${removed.length} undeclared propert${removed.length === 1 ? 'y' : 'ies'}`, data: { operation: op!.id, removed: removed.slice(0, 50) } });
        }
        if (!ok && options.responses === 'enforce') {
          throw new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream response does not match the API contract.', { reason: describeError('response', validate.errors![0]!) });
        }
        return removed.length > 0 ? Buffer.from(JSON.stringify(value)) : buf;
      },
    };
  },
});
