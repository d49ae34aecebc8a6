/**
 * The admin listener (127.0.0.1:9901 by default): health checks now; the admin API, metrics and
 * dashboard mount here. Never on a public address unless the config says so.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { problemType, RampartError, toRampartError } from '../core/errors.js';
import type { Services } from '../core/services.js';

export interface AdminHealth {
  /** True once the gateway serves traffic with a valid config. */
  ready(): boolean;
}

export interface AdminServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

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
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
    ...err.headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, requestId: string): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
  });
  res.end(body);
}

export async function startAdminServer(
  options: { host: string; port: number },
  services: Services,
  health: AdminHealth,
): Promise<AdminServer> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const id = randomUUID();
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' }, id);
      if (path === '/readyz') {
        if (health.ready()) return sendJson(res, 200, { status: 'ready' }, id);
        throw new RampartError('RAMPART_SERVICE_UNAVAILABLE', 'The gateway is not ready.', { headers: { 'retry-after': '1' } });
      }
      throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No admin resource here.');
    } catch (err) {
      const e = toRampartError(err);
      if (e.code === 'RAMPART_INTERNAL') services.logger.error({ err, requestId: id }, 'admin request failed');
      sendAdminProblem(res, e, id);
    }
  };
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, handle);
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
