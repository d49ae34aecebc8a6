import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { RequestContext } from '../../src/core/context.js';

/**
 * A request context as the HTTP server hands one over (a readable stream with a method and headers,
 * no socket), for driving a stage through its hooks in tests and micro-benchmarks. A body gets a
 * JSON content type and its length unless `headers` say otherwise.
 *
 * @example
 *   await stage.handle!(requestContext('POST', '/pets', {}, '{"name":"Rex"}'));
 */
export function requestContext(method: string, target: string, headers: Record<string, string> = {}, body?: string | Buffer): RequestContext {
  const bytes = body === undefined ? undefined : Buffer.from(body);
  const all = bytes === undefined ? headers : { 'content-type': 'application/json', 'content-length': String(bytes.length), ...headers };
  const req = Object.assign(bytes === undefined ? {} : Readable.from([bytes]), { method, headers: all, socket: {} }) as unknown as IncomingMessage;
  const q = target.indexOf('?');
  return new RequestContext({
    id: 't',
    req,
    res: {} as ServerResponse,
    secure: true,
    peerIp: '127.0.0.1',
    host: 'localhost',
    rawPath: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? '' : target.slice(q + 1),
    maxBodyBytes: 1 << 20,
  });
}
