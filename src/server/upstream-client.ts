/**
 * The HTTP/1.1 client that carries requests to an upstream: a keep-alive connection pool per
 * upstream, request and response bodies streamed with backpressure, connect/headers/body/idle
 * timeouts, verified TLS.
 *
 * Why our own rather than undici: on the benchmark layout (docs/performance.md) a minimal
 * `http.createServer` + undici `Pool` proxy served ~9.9 k req/s where the same server with this
 * design served ~14.5 k: undici's per-request machinery (request objects, WASM parser callbacks,
 * handler wrapping, its timers) was most of the gateway's CPU. Parsing is NOT hand-written: responses
 * go through Node's own native llhttp binding in strict mode (`_http_common`'s HTTPParser, the parser
 * node:http's client uses), so framing, header syntax and smuggling defences are llhttp's.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';
import { HTTPParser } from '_http_common';

export type HeaderRecord = Record<string, string | string[]>;

export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target: path and query. */
  readonly path: string;
  /** Lower-case names; `host` included; `content-length` set by the caller when known. */
  readonly headers: HeaderRecord;
  readonly body: Buffer | Readable | null;
}

/** Receives one response. Exactly one of `onEnd` or `onError` is called, once. */
export interface ResponseHandler {
  /** Final (non-1xx) status and headers, names lower-case, repeated fields as arrays. */
  onHead(statusCode: number, headers: HeaderRecord): void;
  /** A body chunk; return false to pause the upstream until `Exchange.resume()`. */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  onError(err: UpstreamError | Error): void;
}

export interface Exchange {
  /** Abandons the exchange; the handler's `onError` receives `reason`. */
  abort(reason: Error): void;
  resume(): void;
}

export type UpstreamErrorCode =
  | 'UPSTREAM_CONNECT_TIMEOUT'
  | 'UPSTREAM_HEADERS_TIMEOUT'
  | 'UPSTREAM_BODY_TIMEOUT'
  | 'UPSTREAM_CLOSED'
  | 'UPSTREAM_BAD_RESPONSE'
  | 'UPSTREAM_INVALID_REQUEST'
  | 'UPSTREAM_POOL_CLOSED';

export class UpstreamError extends Error {
  constructor(readonly code: UpstreamErrorCode, message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface UpstreamPoolOptions {
  /** Most connections open at once; further requests wait in order. */
  readonly connections: number;
  readonly connectTimeoutMs: number;
  /** From the end of the request to the complete response head. */
  readonly headersTimeoutMs: number;
  /** Most idle time between body chunks, either direction. */
  readonly bodyTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** TLS options (`https:` origins); verification is on unless `rejectUnauthorized: false`. */
  readonly tls?: ConnectionOptions;
}

const { kOnMessageBegin, kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete } = HTTPParser;
/** Header values may hold HTAB, visible ASCII and obs-text (RFC 9110 §5.5); never CR, LF or NUL. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_TARGET = /[^\x21-\x7e]/;
/** Methods a request may be replayed with when a reused connection turns out closed (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Methods whose empty body is sent with `content-length: 0` (servers may answer 411 otherwise). */
const PAYLOAD_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);
/** Socket errors that, before any response byte on a reused connection, mean "closed while idle". */
const STALE_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);

/**
 * connecting: TCP/TLS handshake (connect timeout) · idle: parked (keep-alive timeout) · sending: a
 * streamed body is being written (body timeout between chunks) · head: waiting for the response head
 * (headers timeout) · body: reading the response body (body timeout between chunks).
 */
type Phase = 'connecting' | 'idle' | 'sending' | 'head' | 'body' | 'closed';

class ExchangeImpl implements Exchange {
  conn: Connection | undefined;
  settled = false;
  /** A response byte arrived: the request can no longer be replayed. */
  answered = false;
  retried = false;
  constructor(readonly pool: UpstreamPool, readonly req: UpstreamRequest, readonly handler: ResponseHandler) {}

  abort(reason: Error): void {
    if (this.settled) return;
    const conn = this.conn;
    if (conn === undefined) this.pool.dequeue(this);
    this.fail(reason);
    conn?.destroy(undefined);
  }

  resume(): void {
    this.conn?.socket.resume();
  }

  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.conn = undefined;
    this.handler.onError(err);
  }
}

class Connection {
  readonly socket: Socket;
  private readonly parser = new HTTPParser();
  private readonly options: UpstreamPoolOptions;
  /** One timer per connection, re-armed with refresh() while the duration stays the same. */
  private timer: NodeJS.Timeout;
  private timerMs: number;
  /** When the connection was parked (performance.now()); the pool's sweeper closes it after the keep-alive time. */
  idleSince = 0;
  private phase: Phase = 'connecting';
  private exchange: ExchangeImpl | undefined;
  /** Served a request before: a failure before any response byte may be a stale keep-alive. */
  private reused = false;
  private keepAlive = true;
  /** The request (head and body) is fully written. */
  private sent = false;
  /** Final status of the current response; 0 until its head arrives. */
  private status = 0;
  /** The current response completed during this parse; the connection is released after it. */
  private completed = false;
  /** Response bytes arrived that no request asked for: the connection is never reused. */
  private unsolicited = false;
  /** Header pairs delivered in pieces (> 32 fields) before the head completes. */
  private partial: string[] = [];
  private bodySource: Readable | undefined;

  constructor(private readonly pool: UpstreamPool, origin: URL) {
    this.options = pool.options;
    const port = Number(origin.port) || (origin.protocol === 'https:' ? 443 : 80);
    const host = origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname;
    this.socket =
      origin.protocol === 'https:'
        ? tlsConnect({ host, port, ALPNProtocols: ['http/1.1'], ...this.options.tls }, this.onConnect)
        : netConnect({ host, port }, this.onConnect);
    this.socket.setNoDelay(true);
    this.timerMs = this.options.connectTimeoutMs;
    this.timer = setTimeout(this.onTimeout, this.timerMs);
    this.parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
    this.parser[kOnMessageBegin] = this.onMessageBegin;
    this.parser[kOnHeaders] = this.onHeaders;
    this.parser[kOnHeadersComplete] = this.onHeadersComplete;
    this.parser[kOnBody] = this.onBody;
    this.parser[kOnMessageComplete] = this.onMessageComplete;
    this.socket.on('data', this.onSocketData);
    this.socket.on('end', this.onSocketEnd);
    this.socket.on('error', this.onSocketError);
    this.socket.on('close', this.onSocketClose);
    this.socket.on('drain', this.onDrain);
  }

  private readonly onConnect = (): void => {
    if (this.phase === 'connecting') this.awaitResponse();
  };

  /** After connecting or starting an exchange on an open connection: sending, then waiting for the head. */
  private awaitResponse(): void {
    this.phase = this.sent ? 'head' : 'sending';
    this.arm(this.sent ? this.options.headersTimeoutMs : this.options.bodyTimeoutMs);
  }

  private arm(ms: number): void {
    if (ms === this.timerMs) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(this.onTimeout, ms);
  }

  private readonly onTimeout = (): void => {
    if (this.phase === 'connecting') this.destroy(new UpstreamError('UPSTREAM_CONNECT_TIMEOUT', 'connecting to the upstream timed out'));
    else if (this.phase === 'head') this.destroy(new UpstreamError('UPSTREAM_HEADERS_TIMEOUT', 'the upstream sent no response head in time'));
    else if (this.phase === 'sending' || this.phase === 'body') this.destroy(new UpstreamError('UPSTREAM_BODY_TIMEOUT', 'the body stalled'));
    // idle: the timer of the last exchange ran out; the keep-alive time is the sweeper's
  };

  /** Starts `ex` on this connection (new or idle). */
  start(ex: ExchangeImpl): void {
    const { req } = ex;
    const body = req.body;
    const streamed = body !== null && !Buffer.isBuffer(body);
    const chunked = streamed && req.headers['content-length'] === undefined;
    let head: string;
    try {
      head = requestHead(req, chunked);
    } catch (err) {
      ex.fail(err as Error);
      if (this.phase === 'connecting' || !this.pool.reuse(this)) this.destroy(undefined);
      return;
    }
    this.exchange = ex;
    ex.conn = this;
    this.sent = false;
    this.status = 0;
    if (streamed) {
      this.socket.write(head, 'latin1');
      this.pipeBody(body, chunked);
    } else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      if (body !== null && body.length > 0) this.socket.write(body);
      this.socket.uncork();
      this.sent = true;
    }
    if (this.phase === 'connecting') return;
    if (this.socket.isPaused()) this.socket.resume(); // the previous response may have paused it
    this.awaitResponse();
  }

  private pipeBody(body: Readable, chunked: boolean): void {
    this.bodySource = body;
    body.on('data', (chunk: Buffer) => {
      if (this.bodySource !== body) return;
      this.timer.refresh();
      if (chunked) {
        this.socket.cork();
        this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        this.socket.write(chunk);
        this.socket.write('\r\n', 'latin1');
        this.socket.uncork();
      } else this.socket.write(chunk);
      if (this.socket.writableNeedDrain) body.pause();
    });
    body.once('end', () => {
      if (this.bodySource !== body) return;
      this.bodySource = undefined;
      if (chunked) this.socket.write('0\r\n\r\n', 'latin1');
      this.sent = true;
      if (this.phase === 'sending') this.awaitResponse();
    });
    body.once('error', (err: Error) => {
      if (this.bodySource === body) this.destroy(err);
    });
  }

  private readonly onDrain = (): void => {
    this.bodySource?.resume();
  };

  private readonly onMessageBegin = (): void => {
    if (this.exchange === undefined) this.unsolicited = true;
  };

  private readonly onHeaders = (pairs: string[]): void => {
    // Also called with trailer fields after a chunked body: those are not forwarded.
    if (this.status === 0) for (const p of pairs) this.partial.push(p);
  };

  private readonly onHeadersComplete = (
    _major: number, minor: number, pairs: string[] | undefined, _method: unknown, _url: unknown,
    statusCode: number, _message: string, upgrade: boolean, shouldKeepAlive: boolean,
  ): number => {
    const ex = this.exchange;
    if (ex === undefined) return 0;
    ex.answered = true;
    if (pairs === undefined) {
      pairs = this.partial;
      this.partial = [];
    }
    if (upgrade || statusCode === 101) {
      this.destroy(new UpstreamError('UPSTREAM_BAD_RESPONSE', 'the upstream switched protocols unasked'));
      return 2;
    }
    if (statusCode < 200) return 1; // informational (100, 103…): the final response follows
    this.status = statusCode;
    this.keepAlive = shouldKeepAlive && minor >= 1;
    this.phase = 'body';
    this.arm(this.options.bodyTimeoutMs);
    const headers: HeaderRecord = {};
    for (let i = 0; i < pairs.length; i += 2) addHeader(headers, pairs[i]!.toLowerCase(), pairs[i + 1]!);
    ex.handler.onHead(statusCode, headers);
    return ex.req.method === 'HEAD' || statusCode === 304 ? 1 : 0;
  };

  private readonly onBody = (chunk: Buffer): void => {
    const ex = this.exchange;
    if (ex === undefined || ex.settled) return;
    this.timer.refresh();
    if (!ex.handler.onData(chunk)) this.socket.pause();
  };

  private readonly onMessageComplete = (): void => {
    const ex = this.exchange;
    if (ex === undefined || this.status === 0) return; // the end of a 1xx
    this.exchange = undefined;
    ex.conn = undefined;
    this.reused = true;
    this.completed = true;
    if (!this.sent) this.keepAlive = false; // answered before the request body was all sent
    if (ex.settled) return;
    ex.settled = true;
    ex.handler.onEnd();
  };

  private readonly onSocketData = (data: Buffer): void => {
    if (this.exchange === undefined) {
      this.destroy(undefined); // bytes nobody asked for: never reuse this connection
      return;
    }
    let r: number | Error;
    try {
      r = this.parser.execute(data);
    } catch (err) {
      this.destroy(err as Error); // a handler threw
      return;
    }
    if (r instanceof Error) this.destroy(new UpstreamError('UPSTREAM_BAD_RESPONSE', `invalid upstream response (${(r as Error & { code?: string }).code ?? 'parse error'})`));
    else this.afterParse();
  };

  /** Releases the connection once a response completed, unless more bytes followed it. */
  private afterParse(): void {
    if (!this.completed || this.phase === 'closed') return;
    this.completed = false;
    if (this.unsolicited || !this.keepAlive || !this.pool.reuse(this)) this.destroy(undefined);
  }

  /** Parks the connection (called by the pool when nothing waits). */
  park(): void {
    this.phase = 'idle';
    this.idleSince = performance.now();
    this.socket.resume();
  }

  private readonly onSocketEnd = (): void => {
    // A body delimited by the end of the connection completes here; anything else is truncated.
    if (this.exchange !== undefined) {
      try {
        this.parser.finish();
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
    }
    this.destroy(undefined);
  };

  private readonly onSocketError = (err: Error): void => {
    this.destroy(err);
  };

  private readonly onSocketClose = (): void => {
    this.destroy(undefined);
  };

  /** Closes the connection; a pending exchange fails with `err` (or `UPSTREAM_CLOSED`), or is replayed when safe. */
  destroy(err: Error | undefined): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.timer);
    this.socket.destroy();
    this.bodySource = undefined;
    const ex = this.exchange;
    this.exchange = undefined;
    this.pool.forget(this);
    if (ex === undefined || ex.settled) return;
    ex.conn = undefined;
    // A kept-alive connection the upstream closed just as we reused it: replay once, when nothing
    // of the request can have been acted on twice (idempotent method, body still in memory).
    const closedWhileIdle = err === undefined || STALE_CODES.has((err as NodeJS.ErrnoException).code ?? '');
    if (this.reused && closedWhileIdle && !ex.answered && !ex.retried && IDEMPOTENT.has(ex.req.method) && (ex.req.body === null || Buffer.isBuffer(ex.req.body))) {
      ex.retried = true;
      this.pool.enqueue(ex, true);
      return;
    }
    ex.fail(err ?? new UpstreamError('UPSTREAM_CLOSED', 'the upstream closed the connection'));
  }
}

/** One header line; throws on a name or value that could split the request. */
function headerLine(name: string, value: string): string {
  if (INVALID_VALUE.test(value)) throw new UpstreamError('UPSTREAM_INVALID_REQUEST', `invalid characters in the ${name} header`);
  return `${name}: ${value}\r\n`;
}

/** The request line and header block (`chunked`: a streamed body of unknown length follows). */
function requestHead(req: UpstreamRequest, chunked: boolean): string {
  if (!TOKEN.test(req.method)) throw new UpstreamError('UPSTREAM_INVALID_REQUEST', 'invalid method');
  if (INVALID_TARGET.test(req.path) || req.path[0] !== '/') throw new UpstreamError('UPSTREAM_INVALID_REQUEST', 'invalid request target');
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  const headers = req.headers;
  for (const name in headers) {
    if (!TOKEN.test(name)) throw new UpstreamError('UPSTREAM_INVALID_REQUEST', 'invalid header name');
    const value = headers[name]!;
    if (typeof value === 'string') head += headerLine(name, value);
    else for (const v of value) head += headerLine(name, v);
  }
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  else if (req.body === null && PAYLOAD_METHODS.has(req.method) && headers['content-length'] === undefined) head += 'content-length: 0\r\n';
  return `${head}\r\n`;
}

/** Adds a field to a header record, repeated fields as arrays in order. */
export function addHeader(headers: HeaderRecord, name: string, value: string): void {
  const prev = headers[name];
  if (prev === undefined) headers[name] = value;
  else if (typeof prev === 'string') headers[name] = [prev, value];
  else prev.push(value);
}

/** Keep-alive connections to one origin. */
export class UpstreamPool {
  private readonly all = new Set<Connection>();
  private readonly idle: Connection[] = [];
  private readonly queue: ExchangeImpl[] = [];
  private closing: (() => void) | undefined;
  private closed = false;
  /**
   * Closes connections idle for the keep-alive time. One sweep per quarter of that time rather than a
   * timer per parked connection (timers were visible in the benchmark profile); a connection closes
   * after between 3/4 and all of the keep-alive time, never later, so the upstream's own idle timeout,
   * usually a little longer than ours, does not race our reuse.
   */
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sweepMs: number;

  constructor(private readonly origin: URL, readonly options: UpstreamPoolOptions) {
    this.sweepMs = Math.max(1, Math.floor(options.keepAliveTimeoutMs / 4));
  }

  private readonly sweep = (): void => {
    const oldest = performance.now() - (this.options.keepAliveTimeoutMs - this.sweepMs);
    // Parked connections are pushed in order, so the longest idle come first.
    while (this.idle.length > 0 && this.idle[0]!.idleSince <= oldest) this.idle[0]!.destroy(undefined);
  };

  /** Sends `req`; the answer goes to `handler`. Never throws. */
  request(req: UpstreamRequest, handler: ResponseHandler): Exchange {
    const ex = new ExchangeImpl(this, req, handler);
    if (this.closed) ex.fail(new UpstreamError('UPSTREAM_POOL_CLOSED', 'the upstream pool is closed'));
    else this.enqueue(ex, false);
    return ex;
  }

  /** @internal Runs `ex` on an idle or new connection, or queues it (`first`: ahead of the others). */
  enqueue(ex: ExchangeImpl, first: boolean): void {
    const conn = this.idle.pop();
    if (conn !== undefined) conn.start(ex);
    else if (this.all.size < this.options.connections) {
      const fresh = new Connection(this, this.origin);
      this.all.add(fresh);
      fresh.start(ex);
    } else if (first) this.queue.unshift(ex);
    else this.queue.push(ex);
  }

  /** @internal */
  dequeue(ex: ExchangeImpl): void {
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** @internal A connection finished an exchange: give it the next one, or park it. False: close it. */
  reuse(conn: Connection): boolean {
    const next = this.queue.shift();
    if (next !== undefined) {
      conn.start(next);
      return true;
    }
    if (this.closing !== undefined) return false;
    conn.park();
    this.idle.push(conn);
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(this.sweep, this.sweepMs);
      this.sweeper.unref();
    }
    return true;
  }

  /** @internal */
  forget(conn: Connection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    // A queued request waits for a connection slot: open one now that there is room.
    if (this.queue.length > 0 && !this.closed && this.all.size < this.options.connections) this.enqueue(this.queue.shift()!, true);
    if (this.closing !== undefined && this.all.size === 0 && this.queue.length === 0) this.closing();
  }

  /** Lets in-flight and queued requests finish, then closes every connection. */
  close(): Promise<void> {
    if (this.closing !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.closing = resolve;
      clearInterval(this.sweeper);
      for (const conn of [...this.idle]) conn.destroy(undefined);
      if (this.all.size === 0 && this.queue.length === 0) resolve();
    });
  }

  /** Fails everything pending and closes every connection now. */
  async destroy(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const err = new UpstreamError('UPSTREAM_POOL_CLOSED', 'the upstream pool is closed');
    for (const ex of this.queue.splice(0)) ex.fail(err);
    for (const conn of [...this.all]) conn.destroy(err);
    this.closing?.();
  }
}
