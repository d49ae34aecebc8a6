/**
 * Demo "users" resource served by the built-in demo API: profiles of the quick-start consumers,
 * deliberately trusting like many internal services do (it lets any caller read any profile and
 * change `role`). The gateway's authorize stage is what keeps each caller to its own profile
 * (BOLA), refuses `role` in updates (mass assignment) and strips `internalNotes` from responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

interface User {
  id: string;
  name: string;
  tenant: string;
  role: string;
  email: string;
  internalNotes: string;
}

/** What the users resource borrows from the demo server it runs in. */
export interface DemoIO {
  send(res: ServerResponse, status: number, body: unknown): void;
  problem(res: ServerResponse, status: number, detail: string): void;
  readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined>;
}

/**
 * Creates the `/users` handler with two seeded profiles (alice of tenant acme, bob of globex).
 *
 * @example
 *   const users = createUsersResource(io); await users(req, res, url); // GET /users/alice
 */
export function createUsersResource(io: DemoIO): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const users = new Map<string, User>();
  for (const [id, name, tenant] of [['alice', 'Alice', 'acme'], ['bob', 'Bob', 'globex']] as const) {
    users.set(id, { id, name, tenant, role: 'user', email: `${id}@${tenant}.example`, internalNotes: `credit check passed for ${name}` });
  }
  return async (req, res, url) => {
    // Like most frameworks, route parameters are percent-decoded (the gateway refuses invalid encodings first).
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 1 && req.method === 'GET') {
      const tenant = url.searchParams.get('tenant');
      const items = [...users.values()].filter((u) => tenant === null || u.tenant === tenant);
      return io.send(res, 200, { items, total: items.length });
    }
    const user = parts.length === 2 ? users.get(parts[1]!) : undefined;
    if (user === undefined) return io.problem(res, 404, 'no such user');
    if (req.method === 'GET' || req.method === 'HEAD') return io.send(res, 200, user);
    if (req.method === 'PATCH') {
      const body = await io.readJson(req);
      if (body === undefined) return io.problem(res, 400, 'a JSON object is required');
      for (const key of ['name', 'email', 'role'] as const) {
        if (typeof body[key] === 'string') user[key] = body[key];
      }
      return io.send(res, 200, user);
    }
    return io.problem(res, 405, 'method not allowed');
  };
}
