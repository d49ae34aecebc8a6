/**
 * The access log: one JSON line per request, built field by field from the request context (never
 * from headers or bodies), so credentials cannot reach it by construction. Query values are
 * replaced unless allow-listed (`log.queryValues`); sensitive path parameters are replaced too.
 */
import type { Logger } from 'pino';
import type { RequestContext } from '../core/context.js';
import type { Redactor } from './redact.js';
import { traceId } from './tracing.js';

/**
 * Writes the access log line for a finished request (pino, asynchronous destination).
 *
 * @example
 *   logAccess(logger, ctx, redactor, redactor.sensitiveSegments(ctx.route.config.path));
 */
export function logAccess(logger: Logger, ctx: RequestContext, redactor: Redactor, sensitiveSegments: readonly number[]): void {
  logger.info({
    msg: 'request',
    requestId: ctx.id,
    traceId: traceId(ctx.upstreamHeaders['traceparent']),
    clientIp: ctx.clientIp,
    method: ctx.method,
    route: ctx.route?.id,
    path: redactor.path(ctx.rawPath, sensitiveSegments),
    query: ctx.query === '' ? undefined : redactor.query(ctx.query),
    status: ctx.status || ctx.res.statusCode,
    latencyMs: Math.round((performance.now() - ctx.startedAt) * 1000) / 1000,
    bytesIn: ctx.bytesIn,
    bytesOut: ctx.bytesOut,
    consumer: ctx.identity?.consumer,
    credential: ctx.identity?.credentialId,
    decidedBy: ctx.decidedBy,
    reason: ctx.reason === undefined ? undefined : redactor.text(ctx.reason),
  });
}
