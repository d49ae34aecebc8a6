import type { RequestContext } from '../../core/context.js';

/**
 * Adds list items to a structured-field list response header, after those of earlier stages
 * (several limits on one route each contribute their items).
 *
 * @example
 *   appendHeader(ctx, 'ratelimit', '"pets-ip";r=9;t=1')
 */
export function appendHeader(ctx: RequestContext, name: string, items: string): void {
  const before = ctx.responseHeaders[name];
  ctx.responseHeaders[name] = before === undefined ? items : `${before}, ${items}`;
}

/** `Retry-After` seconds: rounded up, at least 1 (0 would invite an immediate retry that fails). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
