/**
 * Forwarding to upstreams: one keep-alive pool per upstream (./upstream-client.ts), bodies streamed
 * both ways with backpressure, the route's response hooks called on the way back.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from '../core/context.js';
import { RampartError, toRampartError } from '../core/errors.js';
import type { ResponseHead, Stage } from '../core/stage.js';
import type { UpstreamConfig } from '../config/schema.js';
import { applySecurityHeaders, sendProblem, STRIPPED_RESPONSE_HEADERS, type ResponsePolicy } from './respond.js';
import { forwardedNode } from './forwarding.js';
import { addHeader, UpstreamError, UpstreamPool, type Exchange, type HeaderRecord, type ResponseHandler, type UpstreamRequest } from './upstream-client.js';

/** Request headers never forwarded: hop-by-hop, and forwarding headers we set ourselves. */
const STRIPPED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
  'x-forwarded-port', 'forwarded', 'x-real-ip', 'x-request-id', 'content-length', 'expect',
]);

/** Most a respond-phase stage may ask the gateway to buffer from an upstream response (8 MiB). */
const MAX_BUFFERED_RESPONSE = 8 * 1024 * 1024;

/** An upstream ready to receive requests. */
export interface Upstream {
  readonly name: string;
  readonly pool: UpstreamPool;
  /** Path prefix from the upstream URL ('' when none). */
  readonly basePath: string;
  /** Value of the Host header sent upstream. */
  readonly host: string;
  readonly config: UpstreamConfig;
}

/** Creates the keep-alive pool for an upstream; `url` is already resolved (builtin: → http://127.0.0.1:port). */
export function createUpstream(name: string, url: string, config: UpstreamConfig, baseDir: string): Upstream {
  const parsed = new URL(url);
  const tls = config.tls;
  const pool = new UpstreamPool(parsed, {
    connections: config.connections,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    bodyTimeoutMs: config.bodyTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    ...(parsed.protocol === 'https:'
      ? {
          tls: {
            rejectUnauthorized: tls.verify,
            ...(tls.ca !== undefined ? { ca: readFileSync(resolve(baseDir, tls.ca)) } : {}),
            ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
          },
        }
      : {}),
  });
  const basePath = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, '');
  return { name, pool, basePath, host: parsed.host, config };
}

/** The field names a `Connection` header lists: hop-by-hop too (RFC 9110 §7.6.1). */
function hopByHop(connection: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (connection === undefined) return undefined;
  const value = String(connection).toLowerCase();
  // The usual values name only fields that are stripped anyway: no set to build per message.
  if (value === 'keep-alive' || value === 'close') return undefined;
  return new Set(value.split(',').map((s) => s.trim()));
}

/** Builds the upstream request headers from the client's. */
function upstreamHeaders(ctx: RequestContext, upstream: Upstream, peerTrusted: boolean): HeaderRecord {
  const out: HeaderRecord = {};
  const raw = ctx.req.rawHeaders;
  const listed = hopByHop(ctx.req.headers.connection);
  const hidden = ctx.hiddenHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    // x-rampart-* carry the verified identity upstream: a client never sets them itself.
    if (STRIPPED_REQUEST_HEADERS.has(name) || listed?.has(name) || name.startsWith('x-rampart-') || hidden?.includes(name)) continue;
    addHeader(out, name, raw[i + 1]!);
  }
  const h = ctx.req.headers;
  const proto = ctx.secure ? 'https' : 'http';
  const priorXff = peerTrusted ? h['x-forwarded-for'] : undefined;
  const peer = ctx.peerIp;
  out['host'] = upstream.host;
  out['x-forwarded-for'] = priorXff !== undefined ? `${priorXff}, ${peer}` : peer;
  out['x-forwarded-proto'] = peerTrusted && typeof h['x-forwarded-proto'] === 'string' ? h['x-forwarded-proto'] : proto;
  out['x-forwarded-host'] = peerTrusted && typeof h['x-forwarded-host'] === 'string' ? h['x-forwarded-host'] : ctx.host;
  const node = `for=${forwardedNode(peer)};host="${ctx.host.replace(/["\\]/g, '')}";proto=${proto}`;
  out['forwarded'] = peerTrusted && typeof h['forwarded'] === 'string' ? `${h['forwarded']}, ${node}` : node;
  out['x-request-id'] = ctx.id;
  const identity = ctx.identity;
  if (identity !== undefined) {
    out['x-rampart-consumer'] = identity.consumer;
    out['x-rampart-auth-method'] = identity.method;
    if (identity.roles.length > 0) out['x-rampart-roles'] = identity.roles.join(',');
    if (identity.scopes.length > 0) out['x-rampart-scopes'] = identity.scopes.join(' ');
    if (identity.tenant !== undefined) out['x-rampart-tenant'] = identity.tenant;
  }
  for (const name in ctx.upstreamHeaders) out[name] = ctx.upstreamHeaders[name]!;
  return out;
}

/** Counts a streamed request body and fails it past the route's limit (chunked bodies have no length upfront). */
class BodyLimit extends Transform {
  private seen = 0;
  constructor(private readonly max: number, private readonly ctx: RequestContext) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    this.ctx.bytesIn = this.seen;
    if (this.seen > this.max) cb(new RampartError('RAMPART_BODY_TOO_LARGE', `The request body exceeds ${this.max} bytes.`));
    else cb(null, chunk);
  }
}

/**
 * Sends the request upstream and streams the answer back, calling the route's response hooks.
 * Never throws: failures become problem responses (or a reset when the response had started).
 */
export function forward(
  ctx: RequestContext,
  upstream: Upstream,
  responseStages: readonly Stage[],
  policy: ResponsePolicy,
  peerTrusted: boolean,
  done: () => void,
): void {
  const route = ctx.route!;
  let path = ctx.rawPath;
  const strip = route.config.stripPrefix;
  if (strip !== undefined && path.startsWith(strip)) path = path.slice(strip.length) || '/';
  const query = ctx.upstreamQuery ?? ctx.query;
  path = upstream.basePath + path + (query !== '' ? `?${query}` : '');

  const headers = upstreamHeaders(ctx, upstream, peerTrusted);
  let body: UpstreamRequest['body'] = null;
  if (ctx.body !== undefined) {
    body = ctx.body;
    headers['content-length'] = String(ctx.body.length);
  } else if (ctx.spooledBody !== undefined) {
    body = ctx.spooledBody.open();
    headers['content-length'] = String(ctx.spooledBody.length);
  } else if (ctx.hasBody) {
    const cl = ctx.req.headers['content-length'];
    if (cl !== undefined) headers['content-length'] = cl;
    const limited = new BodyLimit(ctx.maxBodyBytes, ctx);
    // pipe() does not propagate a client that vanishes mid-body: fail the upstream request then.
    ctx.req.once('close', () => {
      if (!ctx.req.complete) limited.destroy(new RampartError('RAMPART_BAD_REQUEST', 'The client closed the connection mid-body.'));
    });
    body = ctx.req.pipe(limited);
  }
  const handler = new ProxyHandler(ctx, responseStages, policy, done);
  handler.exchange = upstream.pool.request({ path, method: ctx.method, headers, body }, handler);
  ctx.res.on('close', handler.onClientClose);
}

class ProxyHandler implements ResponseHandler {
  exchange: Exchange | undefined;
  private head: ResponseHead | undefined;
  private chunks: Buffer[] | undefined;
  private buffered = 0;
  private finished = false;

  constructor(
    private readonly ctx: RequestContext,
    private readonly stages: readonly Stage[],
    private readonly policy: ResponsePolicy,
    private readonly done: () => void,
  ) {}

  readonly onClientClose = (): void => {
    if (!this.finished && !this.ctx.res.writableFinished) this.exchange?.abort(new Error('client closed the connection'));
  };

  onHead(statusCode: number, upstreamHeaders: HeaderRecord): void {
    const headers: HeaderRecord = {};
    const listed = hopByHop(upstreamHeaders['connection']);
    for (const name in upstreamHeaders) {
      if (STRIPPED_RESPONSE_HEADERS.has(name) || listed?.has(name)) continue;
      const v = upstreamHeaders[name];
      if (v !== undefined) headers[name] = v;
    }
    const head: ResponseHead = { statusCode, headers };
    this.head = head;
    for (const stage of this.stages) stage.onResponseHead!(this.ctx, head);
    if (this.ctx.responseBuffered) {
      this.chunks = [];
      return;
    }
    this.writeHead(head);
    this.ctx.res.on('drain', () => this.exchange?.resume());
  }

  private writeHead(head: ResponseHead): void {
    const out = head.headers as OutgoingHttpHeaders;
    applySecurityHeaders(this.ctx, out, this.policy);
    this.ctx.status = head.statusCode;
    this.ctx.res.writeHead(head.statusCode, out);
  }

  onData(chunk: Buffer): boolean {
    if (this.chunks !== undefined) {
      this.buffered += chunk.length;
      if (this.buffered > MAX_BUFFERED_RESPONSE) {
        this.exchange!.abort(new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream response is too large to inspect.'));
        return false;
      }
      this.chunks.push(chunk);
      return true;
    }
    this.ctx.bytesOut += chunk.length;
    return this.ctx.res.write(chunk);
  }

  onEnd(): void {
    if (this.chunks !== undefined) {
      const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      this.chunks = undefined;
      this.runBodyHooks(body, 0);
      return;
    }
    this.finished = true;
    this.ctx.res.end();
    this.done();
  }

  /** Runs the response-body hooks from `from` on, synchronously until one returns a promise. */
  private runBodyHooks(body: Buffer, from: number): void {
    try {
      for (let i = from; i < this.stages.length; i++) {
        const hook = this.stages[i]!.onResponseBody;
        if (hook === undefined) continue;
        const out = hook.call(this.stages[i], this.ctx, this.head!, body);
        if (Buffer.isBuffer(out)) body = out;
        else {
          out.then((b) => this.runBodyHooks(b, i + 1), (err: unknown) => this.fail(err));
          return;
        }
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.sendBuffered(body);
  }

  private sendBuffered(body: Buffer): void {
    const head = this.head!;
    head.headers['content-length'] = String(body.length);
    this.writeHead(head);
    this.finished = true;
    this.ctx.bytesOut = body.length;
    this.ctx.res.end(this.ctx.method === 'HEAD' ? undefined : body);
    this.done();
  }

  onError(err: Error): void {
    this.fail(err);
  }

  private fail(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    if (this.ctx.res.headersSent || this.ctx.res.destroyed) {
      this.ctx.res.destroy();
    } else {
      const mapped = mapUpstreamError(err);
      this.ctx.reason = mapped.reason;
      this.ctx.decidedBy = 'forward';
      sendProblem(this.ctx, mapped, this.policy);
    }
    this.done();
  }
}

/** Upstream failures → 502/504 problems (internals stay in the reason, for logs only). */
export function mapUpstreamError(err: unknown): RampartError {
  if (err instanceof RampartError) return err;
  const code = (err as { code?: string }).code ?? '';
  const reason = `${code} ${(err as Error).message ?? ''}`.trim();
  if (err instanceof UpstreamError) {
    switch (err.code) {
      case 'UPSTREAM_CONNECT_TIMEOUT':
      case 'UPSTREAM_HEADERS_TIMEOUT':
      case 'UPSTREAM_BODY_TIMEOUT':
        return new RampartError('RAMPART_UPSTREAM_TIMEOUT', 'The upstream did not answer in time.', { reason });
      case 'UPSTREAM_BAD_RESPONSE':
        return new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream sent an invalid response.', { reason });
      case 'UPSTREAM_INVALID_REQUEST':
        return new RampartError('RAMPART_BAD_REQUEST', 'The request cannot be forwarded: a header or the target holds characters HTTP does not allow.', { reason });
      case 'UPSTREAM_CLOSED':
      case 'UPSTREAM_POOL_CLOSED':
        return new RampartError('RAMPART_UPSTREAM_UNAVAILABLE', 'The upstream could not be reached.', { reason });
    }
  }
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL')) {
    return new RampartError('RAMPART_UPSTREAM_UNAVAILABLE', 'The upstream could not be reached securely.', { reason });
  }
  if (/^E[A-Z_]+$/.test(code) && !code.startsWith('ERR_')) return new RampartError('RAMPART_UPSTREAM_UNAVAILABLE', 'The upstream could not be reached.', { reason });
  return toRampartError(err);
}
