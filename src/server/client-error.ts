import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { problemType, RampartError } from '../core/errors.js';

/**
 * Errors the HTTP parser raises before a request exists (malformed framing, oversized heads, slow
 * clients). Answered with a problem document on the raw socket, then the connection is closed.
 */
export function clientErrorToProblem(err: NodeJS.ErrnoException): RampartError {
  const code = err.code ?? '';
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new RampartError('RAMPART_HEADERS_TOO_LARGE', 'The request head is too large.', { reason: code });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new RampartError('RAMPART_REQUEST_TIMEOUT', 'The request was not received in time.', { reason: code });
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return new RampartError('RAMPART_REQUEST_SMUGGLING', 'The request framing is ambiguous and was refused.', { reason: code });
    default:
      return new RampartError('RAMPART_BAD_REQUEST', 'The request could not be parsed.', { reason: code || err.message });
  }
}

export function writeRawProblem(socket: Duplex, err: RampartError, extraHeaders: string = ''): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const id = randomUUID();
  const body = JSON.stringify({
    type: problemType(err.code),
    title: err.title,
    status: err.status,
    detail: err.detail,
    instance: id,
    code: err.code,
  });
  socket.end(
    `HTTP/1.1 ${err.status} ${err.title}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n' +
      `X-Request-Id: ${id}\r\n${extraHeaders}Connection: close\r\n\r\n${body}`,
  );
}
