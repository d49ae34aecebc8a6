/**
 * Admin API for OAuth clients: `POST /admin/v1/clients` (secret shown once), `GET /admin/v1/clients`,
 * `DELETE /admin/v1/clients/{id}` (revoke: the client can no longer get, introspect or revoke tokens).
 */
import type { JWK } from 'jose';
import { AdminResult, type AdminRoute } from '../admin/server.js';
import { RampartError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { describeClient, type OAuthServer } from './server.js';

const MAX_BODY = 64 * 1024;

async function readJson(req: import('node:http').IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new RampartError('RAMPART_BODY_TOO_LARGE', `The request body exceeds ${MAX_BODY} bytes.`);
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the problem below
  }
  throw new RampartError('RAMPART_BAD_REQUEST', 'The body must be a JSON object.');
}

/**
 * @example
 *   startAdminServer(config.admin, services, { ready, routes: [...oauthAdminRoutes(oauth, services.emit)] });
 */
export function oauthAdminRoutes(server: OAuthServer, emit: EventSink): AdminRoute[] {
  const audit = (type: string, principal: string | undefined, clientId: string): void =>
    emit({ type, severity: 'medium', source: 'admin', time: Date.now(), data: { clientId, by: principal } });
  return [
    {
      method: 'POST',
      path: '/admin/v1/clients',
      async handle(request) {
        const body = await readJson(request.req);
        const { name, scopes, jwks } = body;
        if (typeof name !== 'string' || name === '' || name.length > 128) throw new RampartError('RAMPART_BAD_REQUEST', 'name must be a string of 1-128 characters.');
        if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) throw new RampartError('RAMPART_BAD_REQUEST', 'scopes must be an array of strings.');
        if (jwks !== undefined && (!Array.isArray(jwks) || jwks.length === 0)) throw new RampartError('RAMPART_BAD_REQUEST', 'jwks must be a non-empty array of public JWKs.');
        let created;
        try {
          created = await server.createClient({ name, scopes: scopes as string[], ...(jwks !== undefined ? { jwks: jwks as JWK[] } : {}) });
        } catch (err) {
          throw new RampartError('RAMPART_BAD_REQUEST', `The client could not be created: ${(err as Error).message}`);
        }
        audit('oauth.client.created', request.principal?.id, created.client_id);
        return new AdminResult(201, created);
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/clients',
      handle: async () => (await server.store.listClients()).map(describeClient),
    },
    {
      method: 'DELETE',
      path: '/admin/v1/clients/{id}',
      async handle(request) {
        const id = request.params.id!;
        if (!(await server.revokeClient(id))) {
          throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No active client with this id.');
        }
        audit('oauth.client.revoked', request.principal?.id, id);
        return describeClient((await server.store.getClient(id))!);
      },
    },
  ];
}
