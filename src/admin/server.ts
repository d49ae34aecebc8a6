/**
 * The admin listener (127.0.0.1:9901 by default): health checks, and the admin API resources that
 * modules register as {@link AdminRoute}s. Never on a public address unless the config says so.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { problemType, RampartError, toRampartError } from '../core/errors.js';
import type { Services } from '../core/services.js';

/** What an admin handler gets. */
export interface AdminRequest {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: Record<string, string>;
  /** Who called (set by the authenticator; undefined only for public routes). */
  readonly principal: AdminPrincipal | undefined;
}

export interface AdminPrincipal {
  /** Token id (never the token). */
  readonly id: string;
  readonly name: string;
  readonly role: 'admin' | 'operator' | 'auditor';
}

/**
 * One admin API resource. `path` uses `{name}` parameters. A handler returns the JSON body (status
 * 200, or `status` when it returns `{ status, body }`), or writes to `res` itself and returns undefined.
 */
export interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  /** Public routes (health checks) need no token. */
  readonly public?: boolean;
  /** Roles allowed; default: admin and operator for writes, every role for GET. */
  readonly roles?: readonly AdminPrincipal['role'][];
  handle(request: AdminRequest): unknown | Promise<unknown>;
}

/** Returned by a handler to choose the status code. */
export class AdminResult {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {}
}

/** Decides who calls; throws a 401 RampartError when the token is missing or wrong. */
export type AdminAuthenticator = (req: IncomingMessage) => Promise<AdminPrincipal> | AdminPrincipal;

export interface AdminServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

const SECURITY_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** Writes a problem document from the admin API. */
export function sendAdminProblem(res: ServerResponse, err: RampartError, requestId: string): void {
  const body = JSON.stringify({
    type: problemType(err.code),
    title: err.title,
    status: err.status,
    detail: err.detail,
    instance: requestId,
    code: err.code,
    ...err.extensions,
  });
  res.writeHead(err.status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    ...SECURITY_HEADERS,
    'x-request-id': requestId,
    ...err.headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, requestId: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...SECURITY_HEADERS,
    'x-request-id': requestId,
    ...headers,
  });
  res.end(body);
}

interface CompiledAdminRoute {
  route: AdminRoute;
  regex: RegExp;
  names: string[];
}

function compile(route: AdminRoute): CompiledAdminRoute {
  const names: string[] = [];
  // `{` and `}` are left unescaped by the first replace, so parameters are matched as written.
  const pattern = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([a-zA-Z_]+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, regex: new RegExp(`^${pattern}$`), names };
}

export async function startAdminServer(
  options: { host: string; port: number },
  services: Services,
  setup: { ready(): boolean; routes?: readonly AdminRoute[]; authenticate?: AdminAuthenticator },
): Promise<AdminServer> {
  const health: AdminRoute[] = [
    { method: 'GET', path: '/healthz', public: true, handle: () => ({ status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      public: true,
      handle: () => {
        if (setup.ready()) return { status: 'ready' };
        throw new RampartError('RAMPART_SERVICE_UNAVAILABLE', 'The gateway is not ready.', { headers: { 'retry-after': '1' } });
      },
    },
  ];
  const routes = [...health, ...(setup.routes ?? [])].map(compile);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const id = randomUUID();
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      const method = req.method ?? 'GET';
      let allowed: string[] | undefined;
      for (const c of routes) {
        const m = c.regex.exec(url.pathname);
        if (m === null) continue;
        if (c.route.method !== method) {
          (allowed ??= []).push(c.route.method);
          continue;
        }
        const params: Record<string, string> = {};
        c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
        let principal: AdminPrincipal | undefined;
        if (!c.route.public) {
          if (setup.authenticate === undefined) {
            throw new RampartError('RAMPART_SERVICE_UNAVAILABLE', 'Admin authentication is not configured.');
          }
          principal = await setup.authenticate(req);
          const roles = c.route.roles ?? (method === 'GET' ? ['admin', 'operator', 'auditor'] : ['admin', 'operator']);
          if (!roles.includes(principal.role)) {
            throw new RampartError('RAMPART_ADMIN_FORBIDDEN', 'This admin token may not do that.');
          }
        }
        const result = await c.route.handle({ id, req, res, method, path: url.pathname, query: url.searchParams, params, principal });
        if (res.headersSent || res.writableEnded) return;
        if (result instanceof AdminResult) {
          if (result.status === 204) {
            res.writeHead(204, { ...SECURITY_HEADERS, 'x-request-id': id, ...result.headers });
            res.end();
          } else sendJson(res, result.status, result.body, id, result.headers);
        } else sendJson(res, 200, result, id);
        return;
      }
      if (allowed !== undefined) {
        throw new RampartError('RAMPART_METHOD_NOT_ALLOWED', `${method} is not allowed here.`, { headers: { allow: allowed.join(', ') } });
      }
      throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No admin resource here.');
    } catch (err) {
      const e = toRampartError(err);
      if (e.code === 'RAMPART_INTERNAL') services.logger.error({ err, requestId: id }, 'admin request failed');
      if (!res.headersSent) sendAdminProblem(res, e, id);
      else res.destroy();
    }
  };
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16_384 }, (req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
