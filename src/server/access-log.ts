import type { Logger } from 'pino';
import type { RequestContext } from '../core/context.js';

/**
 * One JSON line per request. Query values are not logged (they carry tokens and personal data);
 * only the parameter names are. Credentials never reach this function's output.
 */
export function logAccess(logger: Logger, ctx: RequestContext): void {
  logger.info({
    msg: 'request',
    requestId: ctx.id,
    clientIp: ctx.clientIp,
    method: ctx.method,
    route: ctx.route?.id,
    path: ctx.rawPath,
    query: ctx.query === '' ? undefined : redactQuery(ctx.query),
    status: ctx.status || ctx.res.statusCode,
    latencyMs: Math.round((performance.now() - ctx.startedAt) * 1000) / 1000,
    bytesIn: ctx.bytesIn,
    bytesOut: ctx.bytesOut,
    consumer: ctx.identity?.consumer,
    credential: ctx.identity?.credentialId,
    decidedBy: ctx.decidedBy,
    reason: ctx.reason,
  });
}

/** `a=1&token=xyz` → `a=…&token=…` */
export function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? pair.slice(0, 64) : `${pair.slice(0, Math.min(eq, 64))}=…`;
    })
    .join('&');
}
