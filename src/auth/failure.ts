/**
 * The one way authentication stages refuse a credential that was presented but is not valid:
 * a uniform 401 (same code, detail and challenge whatever part failed, so the response is no
 * oracle), the detailed reason only in the thrown error's `reason` and in an `auth.failure` event.
 */
import type { RequestContext } from '../core/context.js';
import { RampartError, type ErrorCode } from '../core/errors.js';

/** Uniform client-facing details per failure code: never varies with the reason. */
const DETAIL: Partial<Record<ErrorCode, string>> = {
  RAMPART_AUTH_INVALID_TOKEN: 'The access token is invalid.',
  RAMPART_AUTH_INVALID_CERTIFICATE: 'The client certificate is not accepted.',
};

/**
 * Records the failure and returns the error to throw.
 *
 * @example
 *   throw authFailure(ctx, { source: 'jwt', code: 'RAMPART_AUTH_INVALID_TOKEN', reason: 'token expired', challenge: 'Bearer realm="rampart"' });
 */
export function authFailure(
  ctx: RequestContext,
  failure: {
    source: string;
    code: 'RAMPART_AUTH_INVALID_TOKEN' | 'RAMPART_AUTH_INVALID_CERTIFICATE';
    reason: string;
    /** The stage's challenge; Bearer challenges get `error="invalid_token"` (RFC 6750 §3.1). */
    challenge: string;
    data?: Record<string, unknown>;
  },
): RampartError {
  const data = ctx.attemptedPrincipal === undefined ? failure.data : { ...failure.data, attemptedPrincipal: ctx.attemptedPrincipal };
  ctx.emit({ type: 'auth.failure', severity: 'low', source: failure.source, code: failure.code, reason: failure.reason, data });
  const challenge = failure.challenge.startsWith('Bearer') ? `${failure.challenge}, error="invalid_token"` : failure.challenge;
  return new RampartError(failure.code, DETAIL[failure.code]!, { headers: { 'www-authenticate': challenge }, reason: failure.reason });
}
