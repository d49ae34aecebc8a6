/**
 * Typed errors with stable codes. Every denial in Rampart is a {@link RampartError}; the responder
 * turns it into exactly one RFC 9457 problem response. The table below is the single source of
 * status, title and documentation anchor for each code; `test/core/errors.test.ts` checks that
 * docs/errors.md documents every code and nothing else.
 *
 * @example
 *   throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No route matches GET /nope');
 */

/** Code → HTTP status and a short human title. Add new codes here (and to docs/errors.md). */
export const ERROR_CODES = {
  // guard / protocol hygiene
  RAMPART_BAD_REQUEST: { status: 400, title: 'Bad request' },
  RAMPART_REQUEST_SMUGGLING: { status: 400, title: 'Ambiguous request framing' },
  RAMPART_BAD_PATH: { status: 400, title: 'Malformed or ambiguous path' },
  RAMPART_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  RAMPART_URI_TOO_LONG: { status: 414, title: 'URI too long' },
  RAMPART_BODY_TOO_LARGE: { status: 413, title: 'Content too large' },
  RAMPART_REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  RAMPART_CORS_REJECTED: { status: 403, title: 'CORS request not allowed' },
  RAMPART_IP_DENIED: { status: 403, title: 'Client address not allowed' },
  // authentication (stages add method-specific codes; bodies never say which part failed)
  RAMPART_AUTH_REQUIRED: { status: 401, title: 'Authentication required' },
  RAMPART_AUTH_INVALID_TOKEN: { status: 401, title: 'Invalid access token' },
  RAMPART_AUTH_INVALID_CERTIFICATE: { status: 401, title: 'Client certificate not accepted' },
  RAMPART_AUTH_UNAVAILABLE: { status: 503, title: 'Authentication service unavailable' },
  RAMPART_OAUTH_ERROR: { status: 400, title: 'OAuth request refused' },
  RAMPART_AUTH_INVALID_KEY: { status: 401, title: 'Invalid API key' },
  // authorization (403 bodies never say which rule refused)
  RAMPART_FORBIDDEN: { status: 403, title: 'Forbidden' },
  RAMPART_METHOD_OVERRIDE: { status: 400, title: 'Method override not accepted' },
  // routing
  RAMPART_ROUTE_NOT_FOUND: { status: 404, title: 'Not found' },
  RAMPART_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  // rate limiting and brute-force protection (src/stages/rate-limit/)
  RAMPART_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  RAMPART_RATE_LIMIT_UNAVAILABLE: { status: 503, title: 'Rate limit cannot be checked' },
  RAMPART_AUTH_LOCKED_OUT: { status: 429, title: 'Too many failed authentications' },
  // validate / inspect
  RAMPART_VALIDATION_FAILED: { status: 400, title: 'Request does not match the API contract' },
  RAMPART_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RAMPART_INJECTION_DETECTED: { status: 403, title: 'Request blocked by injection detection' },
  RAMPART_INSPECTION_INCOMPLETE: { status: 403, title: 'Request could not be inspected' },
  // forward
  RAMPART_UPSTREAM_UNAVAILABLE: { status: 502, title: 'Upstream unavailable' },
  RAMPART_UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream timeout' },
  RAMPART_UPSTREAM_BAD_RESPONSE: { status: 502, title: 'Invalid upstream response' },
  // inspect: uploads
  RAMPART_UPLOAD_MALFORMED: { status: 400, title: 'Malformed upload' },
  RAMPART_UPLOAD_TOO_LARGE: { status: 413, title: 'Upload too large' },
  RAMPART_UPLOAD_TOO_MANY_PARTS: { status: 413, title: 'Too many files or fields' },
  RAMPART_UPLOAD_TYPE_NOT_ALLOWED: { status: 415, title: 'File type not accepted' },
  RAMPART_UPLOAD_TYPE_MISMATCH: { status: 415, title: 'File type does not match its content' },
  RAMPART_UPLOAD_BAD_FILENAME: { status: 422, title: 'Unsafe file name' },
  RAMPART_UPLOAD_ACTIVE_CONTENT: { status: 422, title: 'File contains active content' },
  RAMPART_UPLOAD_ARCHIVE_REJECTED: { status: 422, title: 'Archive refused' },
  RAMPART_UPLOAD_MALWARE: { status: 422, title: 'Malware detected' },
  RAMPART_UPLOAD_SCANNER_UNAVAILABLE: { status: 503, title: 'Malware scanner unavailable' },
  // admin API
  RAMPART_ADMIN_FORBIDDEN: { status: 403, title: 'Admin action not allowed' },
  RAMPART_ADMIN_UNAUTHORIZED: { status: 401, title: 'Admin token required' },
  RAMPART_ADMIN_RATE_LIMITED: { status: 429, title: 'Too many failed admin logins' },
  RAMPART_ADMIN_INVALID_INPUT: { status: 400, title: 'Invalid admin request' },
  RAMPART_ADMIN_NOT_FOUND: { status: 404, title: 'No such admin resource' },
  RAMPART_ADMIN_CONFLICT: { status: 409, title: 'Conflicting admin resource' },
  // generic
  RAMPART_SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  RAMPART_STORE_UNAVAILABLE: { status: 503, title: 'Store unavailable' },
  RAMPART_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface RampartErrorOptions {
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`, `Allow`). */
  headers?: Record<string, string>;
  /** Extra problem members (never secrets). */
  extensions?: Record<string, unknown>;
  /** Reason recorded in logs and audit events only, never sent to the client. */
  reason?: string;
  cause?: unknown;
}

/** Base class of every denial and failure that reaches a client. */
export class RampartError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly headers: Record<string, string> | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly reason: string;

  constructor(code: ErrorCode, detail: string, options: RampartErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RampartError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.title = ERROR_CODES[code].title;
    this.detail = detail;
    this.headers = options.headers;
    this.extensions = options.extensions;
    this.reason = options.reason ?? detail;
  }
}

/** The problem `type` URI for a code; docs/errors.md has one heading per code. */
export function problemType(code: ErrorCode): string {
  return `urn:rampart:error:${code}`;
}

/** Wraps anything thrown into a RampartError without leaking internals to the client. */
export function toRampartError(err: unknown): RampartError {
  if (err instanceof RampartError) return err;
  return new RampartError('RAMPART_INTERNAL', 'The gateway could not process this request.', {
    reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    cause: err,
  });
}
