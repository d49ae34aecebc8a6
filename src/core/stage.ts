import type { RequestContext } from './context.js';
import type { Phase } from './phases.js';

/** Response head as received from the upstream (or produced by the gateway), mutable by respond hooks. */
export interface ResponseHead {
  statusCode: number;
  /** Lower-case header names. Values of repeated headers are arrays. */
  headers: Record<string, string | string[]>;
}

/**
 * One unit of request processing. A stage belongs to exactly one phase; the pipeline orders stages
 * by phase. A stage denies by throwing a `RampartError`, or answers directly with `ctx.reply()`.
 *
 * @example
 *   const stage: Stage = { name: 'deny-all', phase: 'authorize', handle() { throw new RampartError('RAMPART_IP_DENIED', 'no') } };
 */
export interface Stage {
  readonly name: string;
  readonly phase: Phase;
  /**
   * Authenticate-phase stages only: the `WWW-Authenticate` challenge for this method (e.g.
   * `Bearer realm="rampart"`). Authentication stages are any-of: a stage whose credential is absent
   * returns without an identity; one whose credential is present but wrong throws 401; a stage runs
   * only while `ctx.identity` is unset. If the authenticate phase ends with no identity, the
   * pipeline answers 401 with every challenge (RAMPART_AUTH_REQUIRED).
   */
  readonly challenge?: string;
  /** Request side. Synchronous stages should return undefined: no promise is allocated then. */
  handle?(ctx: RequestContext): void | Promise<void>;
  /** Response head from the upstream: may edit headers, or ask for the body with `ctx.bufferResponse()`. */
  onResponseHead?(ctx: RequestContext, head: ResponseHead): void;
  /** Called with the whole response body when a stage asked for it; returns the body to send. */
  onResponseBody?(ctx: RequestContext, head: ResponseHead, body: Buffer): Buffer | Promise<Buffer>;
  /** After the response is finished (or the client went away): logs, metrics, events. */
  onComplete?(ctx: RequestContext): void;
  /** Release timers, pools, connections when the config that built it is retired. */
  close?(): Promise<void> | void;
}
