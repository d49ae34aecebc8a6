/**
 * Protocol hygiene at the edge (guard phase, before routing): framing that could smuggle a second
 * request past the gateway, oversized heads, and paths that the gateway and the upstream could
 * read differently. Node's HTTP parser already refuses much of this; these checks make the policy
 * explicit and independent of parser leniency flags.
 */
import { RampartError } from '../core/errors.js';
import type { IncomingMessage } from 'node:http';
import type { LimitsConfig } from '../config/schema.js';

const DIGITS = /^[0-9]{1,15}$/;

/** Refuses ambiguous message framing: CL+TE, repeated or malformed CL, any TE but a lone `chunked`. */
export function checkFraming(req: IncomingMessage, maxBodyBytes: number): void {
  const raw = req.rawHeaders;
  let cl: string | undefined;
  let te: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (cl !== undefined) throw smuggling('repeated Content-Length');
      cl = raw[i + 1]!;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      if (te !== undefined) throw smuggling('repeated Transfer-Encoding');
      te = raw[i + 1]!;
    }
  }
  if (cl !== undefined && te !== undefined) throw smuggling('both Content-Length and Transfer-Encoding');
  if (te !== undefined && te !== 'chunked') throw smuggling(`Transfer-Encoding ${JSON.stringify(te.slice(0, 40))}`);
  if (cl !== undefined) {
    if (!DIGITS.test(cl)) throw smuggling('malformed Content-Length');
    if (Number(cl) > maxBodyBytes) {
      throw new RampartError('RAMPART_BODY_TOO_LARGE', `The request body exceeds ${maxBodyBytes} bytes.`);
    }
  }
}

function smuggling(reason: string): RampartError {
  return new RampartError('RAMPART_REQUEST_SMUGGLING', 'The request framing is ambiguous and was refused.', { reason });
}

/** Header count and request-target length (the header byte limit is enforced by the parser). */
export function checkHead(req: IncomingMessage, limits: LimitsConfig): void {
  if (req.rawHeaders.length / 2 > limits.maxHeaderCount) {
    throw new RampartError('RAMPART_HEADERS_TOO_LARGE', `More than ${limits.maxHeaderCount} header fields.`);
  }
  if ((req.url ?? '').length > limits.maxUrlLength) {
    throw new RampartError('RAMPART_URI_TOO_LONG', `The request target exceeds ${limits.maxUrlLength} bytes.`);
  }
}

/** Characters allowed raw in a path (RFC 3986 pchar and `/`). */
const PLAIN_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

/**
 * Splits the request target and returns the decoded path used for routing (see {@link decodePath}).
 */
export function parseTarget(url: string): { rawPath: string; query: string; path: string } {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  return { rawPath, query: q === -1 ? '' : url.slice(q + 1), path: decodePath(rawPath) };
}

/**
 * The decoded path used for routing. Refuses anything the upstream could interpret differently:
 * dot segments (raw or percent-encoded), encoded `/` or `\`, backslashes, control characters,
 * empty segments, invalid percent-encoding or UTF-8, and targets that are not a path.
 */
export function decodePath(rawPath: string): string {
  if (rawPath.charCodeAt(0) !== 47 /* / */) throw badPath('the request target must be a path');
  if (rawPath.includes('//')) throw badPath('empty path segment');
  if (rawPath.includes('%')) {
    if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(rawPath)) throw badPath('invalid character in path');
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      throw badPath('invalid percent-encoding');
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(path)) throw badPath('encoded control character or backslash');
    if (/%2f/i.test(rawPath)) throw badPath('encoded slash');
    if (DOT_SEGMENT.test(path)) throw badPath('dot segment');
    return path;
  }
  if (!PLAIN_PATH.test(rawPath)) throw badPath('invalid character in path');
  if (DOT_SEGMENT.test(rawPath)) throw badPath('dot segment');
  return rawPath;
}

function badPath(reason: string): RampartError {
  return new RampartError('RAMPART_BAD_PATH', 'The request path is malformed or ambiguous.', { reason });
}
