/**
 * Forwarding to upstreams: one undici Pool per upstream (keep-alive), bodies streamed both ways
 * with backpressure. Uses undici's low-level `dispatch` handler API rather than `request()`: it
 * avoids allocating a Readable per response, which the benchmark showed matters on the hot path.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { RequestContext } from '../core/context.js';
import { RampartError, toRampartError } from '../core/errors.js';
import type { ResponseHead, Stage } from '../core/stage.js';
import type { UpstreamConfig } from '../config/schema.js';
import { applySecurityHeaders, sendProblem, STRIPPED_RESPONSE_HEADERS, type ResponsePolicy } from './respond.js';
import { forwardedNode } from './forwarding.js';

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
  readonly pool: Pool;
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
  const pool = new Pool(parsed.origin, {
    connections: config.connections,
    pipelining: 1,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    headersTimeout: config.headersTimeoutMs,
    bodyTimeout: config.bodyTimeoutMs,
    connect: {
      timeout: config.connectTimeoutMs,
      ...(parsed.protocol === 'https:'
        ? {
            rejectUnauthorized: tls.verify,
            ...(tls.ca !== undefined ? { ca: readFileSync(resolve(baseDir, tls.ca)) } : {}),
            ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
          }
        : {}),
    },
  });
  const basePath = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/$/, '');
  return { name, pool, basePath, host: parsed.host, config };
}

/** Builds the upstream request headers from the client's. */
function upstreamHeaders(ctx: RequestContext, upstream: Upstream, peerTrusted: boolean): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  const raw = ctx.req.rawHeaders;
  const connectionTokens = ctx.req.headers.connection;
  const listed = connectionTokens !== undefined ? new Set(connectionTokens.toLowerCase().split(',').map((s) => s.trim())) : undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    // x-rampart-* carry the verified identity upstream: a client never sets them itself.
    if (STRIPPED_REQUEST_HEADERS.has(name) || listed?.has(name) || name.startsWith('x-rampart-')) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = raw[i + 1]!;
    else if (Array.isArray(prev)) prev.push(raw[i + 1]!);
    else out[name] = [prev, raw[i + 1]!];
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
  path = upstream.basePath + path + (ctx.query !== '' ? `?${ctx.query}` : '');

  const headers = upstreamHeaders(ctx, upstream, peerTrusted);
  let body: Dispatcher.DispatchOptions['body'] = null;
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
  ctx.res.on('close', handler.onClientClose);
  upstream.pool.dispatch({ path, method: ctx.method, headers, body }, handler);
}

class ProxyHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
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
    if (!this.finished && !this.ctx.res.writableFinished) this.controller?.abort(new Error('client closed the connection'));
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, upstreamHeaders: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    const headers: Record<string, string | string[]> = {};
    for (const name in upstreamHeaders) {
      if (STRIPPED_RESPONSE_HEADERS.has(name)) continue;
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
    this.ctx.res.on('drain', () => controller.resume());
  }

  private writeHead(head: ResponseHead): void {
    const out = head.headers as OutgoingHttpHeaders;
    applySecurityHeaders(this.ctx, out, this.policy);
    this.ctx.status = head.statusCode;
    this.ctx.res.writeHead(head.statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks !== undefined) {
      this.buffered += chunk.length;
      if (this.buffered > MAX_BUFFERED_RESPONSE) {
        controller.abort(new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream response is too large to inspect.'));
        return;
      }
      this.chunks.push(chunk);
      return;
    }
    this.ctx.bytesOut += chunk.length;
    if (!this.ctx.res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.chunks !== undefined) {
      void this.finishBuffered(Buffer.concat(this.chunks, this.buffered));
      return;
    }
    this.finished = true;
    this.ctx.res.end();
    this.done();
  }

  private async finishBuffered(body: Buffer): Promise<void> {
    const head = this.head!;
    try {
      for (const stage of this.stages) {
        if (stage.onResponseBody !== undefined) body = await stage.onResponseBody(this.ctx, head, body);
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    head.headers['content-length'] = String(body.length);
    this.writeHead(head);
    this.finished = true;
    this.ctx.bytesOut = body.length;
    this.ctx.res.end(this.ctx.method === 'HEAD' ? undefined : body);
    this.done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
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

/** undici failures → 502/504 problems (internals stay in the reason, for logs only). */
export function mapUpstreamError(err: unknown): RampartError {
  if (err instanceof RampartError) return err;
  const code = (err as { code?: string }).code ?? '';
  const reason = `${code} ${(err as Error).message ?? ''}`.trim();
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new RampartError('RAMPART_UPSTREAM_TIMEOUT', 'The upstream did not answer in time.', { reason });
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'EPIPE':
      return new RampartError('RAMPART_UPSTREAM_UNAVAILABLE', 'The upstream could not be reached.', { reason });
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_INFO':
      return new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream sent an invalid response.', { reason });
    default:
      if (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
        return new RampartError('RAMPART_UPSTREAM_UNAVAILABLE', 'The upstream could not be reached securely.', { reason });
      }
      if (code.startsWith('HPE_')) return new RampartError('RAMPART_UPSTREAM_BAD_RESPONSE', 'The upstream sent an invalid response.', { reason });
      return toRampartError(err);
  }
}
