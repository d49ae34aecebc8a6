import { z } from 'zod';
import type { AdminRoute } from './server.js';
import type { DocumentedRoute } from './input.js';

const PROBLEM = {
  type: 'object',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', example: 'RAMPART_ADMIN_INVALID_INPUT' },
  },
};

/**
 * The admin API's OpenAPI 3.1 document, generated from the registered routes (summaries, roles,
 * request bodies from their zod schemas), so it cannot drift from what is served.
 *
 * @example
 *   const doc = openApiDocument(routes); // served at /admin/v1/openapi.json
 */
export function openApiDocument(routes: readonly AdminRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const documented = r as Partial<DocumentedRoute> & AdminRoute;
    const params = [...r.path.matchAll(/\{([a-zA-Z_]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const roles = r.roles ?? (r.method === 'GET' ? ['admin', 'operator', 'auditor'] : ['admin', 'operator']);
    const op: Record<string, unknown> = {
      summary: documented.summary ?? `${r.method} ${r.path}`,
      ...(r.public ? { security: [] } : { description: `Roles: ${roles.join(', ')}.` }),
      ...(params.length > 0 ? { parameters: params } : {}),
      responses: {
        '200': { description: 'OK', content: { 'application/json': {} } },
        default: { description: 'Problem (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
    };
    if (documented.body !== undefined) {
      op.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(documented.body, { io: 'input', unrepresentable: 'any' }) } } };
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Rampart admin API', version: '1' },
    servers: [{ url: 'http://127.0.0.1:9901' }],
    security: [{ adminToken: [] }],
    paths,
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'Admin token (rampart admin bootstrap, or RAMPART_ADMIN_TOKEN)' } },
      schemas: { Problem: PROBLEM },
    },
  };
}
