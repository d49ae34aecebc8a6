import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { RampartError } from './errors.js';
import { atTurnEnd } from './turn.js';
import type { Identity } from './identity.js';
import type { SecurityEvent } from './events.js';
import type { CompiledRoute } from '../server/router.js';

/** A response produced by the gateway itself (preflight, built-in endpoints). */
export interface DirectReply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/**
 * Per-request state that stages fill in order: route and params (router), identity
 * (authenticate), decisions and events (every stage), extra headers both ways.
 */
export class RequestContext {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  /** True when the client reached us over TLS. */
  readonly secure: boolean;
  /** Address of the TCP peer. */
  readonly peerIp: string;
  /** Client address: the peer, or the forwarded address when the peer is a trusted proxy. */
  clientIp: string;
  readonly method: string;
  /** Path exactly as received (percent-encoded), without the query. */
  readonly rawPath: string;
  /** Query string without `?` ('' when none). */
  readonly query: string;
  /** Decoded path used for routing (set by the path guard). */
  path: string;
  readonly host: string;
  route: CompiledRoute | undefined;
  params: Record<string, string> = {};
  identity: Identity | undefined;
  /**
   * The consumer or client an authentication attempt named, even when it failed (OAuth client_id,
   * key owner once looked up): lets the lockout count failures per targeted principal.
   */
  attemptedPrincipal: string | undefined;
  /** Stage that decided the outcome (denial or direct reply) and why: for the access log. */
  decidedBy: string | undefined;
  reason: string | undefined;
  readonly events: SecurityEvent[] = [];
  /** Headers added to the upstream request. */
  readonly upstreamHeaders: Record<string, string> = {};
  /**
   * Client header fields (lower-case) not forwarded upstream: a credential the gateway verified
   * and the upstream has no use for (an API key), so it cannot end up in the upstream's logs.
   */
  hiddenHeaders: string[] | undefined;
  /** The query string sent upstream when a stage removed a parameter from it (else `query`). */
  upstreamQuery: string | undefined;
  /** Headers added to the client response (also to problem responses). */
  readonly responseHeaders: Record<string, string> = {};
  /** The buffered request body, once a stage read it. */
  body: Buffer | undefined;
  /**
   * A request body a stage stored on disk after inspecting it (uploads): the proxy forwards this
   * instead of the client's stream, so the upstream only ever receives what was inspected.
   */
  spooledBody: { readonly length: number; open(): Readable } | undefined;
  reply: DirectReply | undefined;
  /** A respond-phase stage wants the whole upstream body (see `Stage.onResponseBody`). */
  responseBuffered = false;
  /** Final status sent to the client. */
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Per-route maximum body size in bytes (from limits, per-route overrides). */
  maxBodyBytes: number;
  private bodyPromise: Promise<Buffer> | undefined;
  /**
   * The parse of the body shared by the stages that read it (validate/body.ts owns its type). A
   * field, not a WeakMap keyed by context: ephemeron entries per request showed up as GC time.
   */
  bodyParse: unknown;

  constructor(init: {
    id: string;
    req: IncomingMessage;
    res: ServerResponse;
    secure: boolean;
    peerIp: string;
    host: string;
    rawPath: string;
    query: string;
    maxBodyBytes: number;
  }) {
    this.id = init.id;
    this.req = init.req;
    this.res = init.res;
    this.startedAt = performance.now();
    this.secure = init.secure;
    this.peerIp = init.peerIp;
    this.clientIp = init.peerIp;
    this.method = init.req.method ?? 'GET';
    this.rawPath = init.rawPath;
    this.path = init.rawPath;
    this.query = init.query;
    this.host = init.host;
    this.maxBodyBytes = init.maxBodyBytes;
  }

  /** Answers the request from the gateway; the pipeline stops after the current stage. */
  respond(status: number, body: string | Buffer = '', headers: Record<string, string> = {}): void {
    this.reply = { status, headers, body };
  }

  /** Records a security event for this request (filled with request facts). */
  emit(event: Omit<SecurityEvent, 'time' | 'requestId' | 'clientIp' | 'route' | 'method' | 'path' | 'consumer'>): void {
    this.events.push({
      ...event,
      time: Date.now(),
      requestId: this.id,
      clientIp: this.clientIp,
      route: this.route?.id,
      method: this.method,
      path: this.rawPath,
      consumer: this.identity?.consumer,
    });
  }

  /** True when the request announces a body. */
  get hasBody(): boolean {
    const h = this.req.headers;
    return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
  }

  /**
   * Reads the whole request body once (later calls share it), refusing more than
   * `maxBodyBytes` with 413. Stages that inspect bodies call this; the proxy then forwards the buffer.
   */
  readBody(): Promise<Buffer> {
    this.bodyPromise ??= readLimited(this.req, this.maxBodyBytes).then((b) => {
      this.body = b;
      this.bytesIn = b.length;
      return b;
    });
    return this.bodyPromise;
  }
}

function readLimited(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        req.resume();
        reject(new RampartError('RAMPART_BODY_TOO_LARGE', `The request body exceeds ${max} bytes.`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      atTurnEnd(() => resolve(body));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new RampartError('RAMPART_BAD_REQUEST', 'The request body could not be read.', { reason: err.message }));
    };
    const onAborted = (): void => onError(new Error('client aborted'));
    function cleanup(): void {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
