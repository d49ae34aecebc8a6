/**
 * The one place where responses leave the gateway: problem documents (RFC 9457), direct replies,
 * and the security headers every response carries.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext, DirectReply } from '../core/context.js';
import { problemType, type RampartError } from '../core/errors.js';

/** Upstream response headers never passed on: hop-by-hop (RFC 9110 §7.6.1) and fingerprinting. */
export const STRIPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authenticate', 'server', 'x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version',
]);

export interface ResponsePolicy {
  /** Full Strict-Transport-Security value, sent on HTTPS responses. */
  readonly hsts: string;
}

/** Adds the security headers and the context's extra headers to `headers` (mutated). */
export function applySecurityHeaders(ctx: RequestContext, headers: OutgoingHttpHeaders, policy: ResponsePolicy): void {
  headers['x-request-id'] = ctx.id;
  headers['x-content-type-options'] = 'nosniff';
  if (headers['x-frame-options'] === undefined) headers['x-frame-options'] = 'DENY';
  if (headers['referrer-policy'] === undefined) headers['referrer-policy'] = 'no-referrer';
  if (ctx.secure) headers['strict-transport-security'] = policy.hsts;
  if (ctx.identity !== undefined && ctx.identity.method !== 'anonymous') headers['cache-control'] = 'no-store';
  for (const name in ctx.responseHeaders) headers[name] = ctx.responseHeaders[name];
}

/** Sends `err` as `application/problem+json`. Never includes internals or credentials. */
export function sendProblem(ctx: RequestContext, err: RampartError, policy: ResponsePolicy): void {
  const res = ctx.res;
  ctx.status = err.status;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({
    type: problemType(err.code),
    title: err.title,
    status: err.status,
    detail: err.detail,
    instance: ctx.id,
    code: err.code,
    ...err.extensions,
  });
  const headers: OutgoingHttpHeaders = {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    ...err.headers,
  };
  applySecurityHeaders(ctx, headers, policy);
  headers['cache-control'] = 'no-store'; // problems are never cached, authenticated or not
  // After ambiguous framing the rest of the stream cannot be trusted to be a new request; and a
  // client whose body we refused to read would block keep-alive reuse. Close in both cases.
  if (err.code === 'RAMPART_REQUEST_SMUGGLING' || (!ctx.req.complete && ctx.body === undefined && ctx.hasBody)) headers['connection'] = 'close';
  res.writeHead(err.status, headers);
  res.end(ctx.method === 'HEAD' ? undefined : body);
  ctx.bytesOut = Buffer.byteLength(body);
}

/** Sends a reply produced by a stage (`ctx.respond`). */
export function sendReply(ctx: RequestContext, reply: DirectReply, policy: ResponsePolicy): void {
  const headers: OutgoingHttpHeaders = { ...reply.headers };
  const length = typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.length;
  headers['content-length'] = length;
  applySecurityHeaders(ctx, headers, policy);
  ctx.status = reply.status;
  ctx.bytesOut = length;
  ctx.res.writeHead(reply.status, headers);
  ctx.res.end(ctx.method === 'HEAD' ? undefined : reply.body);
}
