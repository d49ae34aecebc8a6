/**
 * Input handling shared by admin resources: JSON bodies read with a size limit and validated by a
 * zod schema into precise problems, and store failures mapped to problems (never a 500 with internals).
 */
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { RampartError } from '../core/errors.js';
import { formatIssues } from '../config/load.js';
import { StoreConflictError, StoreUnavailableError } from '../stores/contracts.js';
import type { AdminRequest, AdminRoute } from './server.js';

/** Largest admin request body, bytes. */
export const MAX_ADMIN_BODY = 65_536;

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY) throw new RampartError('RAMPART_BODY_TOO_LARGE', `The request body exceeds ${MAX_ADMIN_BODY} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads and validates a JSON body; an empty body counts as `{}`.
 *
 * @example
 *   const input = await readJson(request.req, createConsumerInput);
 */
export async function readJson<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.infer<S>> {
  const type = req.headers['content-type'];
  const text = await readText(req);
  let value: unknown = {};
  if (text.trim() !== '') {
    if (type !== undefined && !/^application\/(.+\+)?json\b/i.test(type)) {
      throw new RampartError('RAMPART_ADMIN_INVALID_INPUT', 'The request body must be JSON (Content-Type: application/json).');
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new RampartError('RAMPART_BAD_REQUEST', 'The request body is not valid JSON.');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = formatIssues(parsed.error.issues);
    throw new RampartError('RAMPART_ADMIN_INVALID_INPUT', errors.join('; ').slice(0, 500), { extensions: { errors } });
  }
  return parsed.data;
}

/** Validates query parameters (as strings) with a schema. */
export function readQuery<S extends z.ZodType>(query: URLSearchParams, schema: S): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(query));
  if (!parsed.success) {
    const errors = formatIssues(parsed.error.issues);
    throw new RampartError('RAMPART_ADMIN_INVALID_INPUT', errors.join('; ').slice(0, 500), { extensions: { errors } });
  }
  return parsed.data;
}

/** An admin route with the documentation the OpenAPI document is generated from. */
export interface DocumentedRoute extends AdminRoute {
  readonly summary: string;
  /** JSON body schema, when the route takes one. */
  readonly body?: z.ZodType;
}

/** Wraps a handler so store failures become problems: conflict → 409, unavailable → 503. */
export function route(def: DocumentedRoute): DocumentedRoute {
  return {
    ...def,
    async handle(request: AdminRequest) {
      try {
        return await def.handle(request);
      } catch (err) {
        if (err instanceof StoreConflictError) throw new RampartError('RAMPART_ADMIN_CONFLICT', 'A resource with this name already exists.', { reason: err.message });
        if (err instanceof StoreUnavailableError) {
          throw new RampartError('RAMPART_STORE_UNAVAILABLE', 'The store is not answering; try again shortly.', { headers: { 'retry-after': '1' }, reason: err.message });
        }
        throw err;
      }
    },
  };
}

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `500ms`, `10s`, `15m`, `24h`, `30d` → milliseconds, or undefined when malformed. */
export function durationMs(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
  return m === null ? undefined : Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
}
