/**
 * The scanner's only way out: every request goes through {@link ScopedClient}, which refuses any
 * URL outside the target's origin, never follows redirects, keeps to the `--rate` cap, counts
 * requests and records each exchange with credentials redacted.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { Evidence } from './types.js';

/** A caller the scanner acts as: `alice=Authorization:Bearer abc`. */
export interface Identity {
  readonly name: string;
  readonly header: string;
  readonly value: string;
}

/**
 * Parses `NAME=HEADER:VALUE`.
 *
 * @example
 *   parseIdentity('alice=Authorization:Bearer t0k3n') // { name: 'alice', header: 'Authorization', value: 'Bearer t0k3n' }
 */
export function parseIdentity(text: string): Identity {
  const m = /^([A-Za-z0-9_.-]{1,64})=([!#$%&'*+.^_`|~0-9A-Za-z-]+):(.*)$/.exec(text);
  if (m === null) throw new Error(`invalid identity ${JSON.stringify(text.split(':')[0])}: use NAME=HEADER:VALUE (e.g. alice=Authorization:Bearer TOKEN)`);
  const value = m[3]!.trim();
  if (value === '' || /[\r\n]/.test(value)) throw new Error(`identity ${m[1]}: empty or multi-line header value`);
  return { name: m[1]!, header: m[2]!, value };
}

export class ScopeError extends Error {
  constructor(url: string, origin: string) {
    super(`refused out-of-scope request to ${url.slice(0, 200)} (target origin is ${origin})`);
    this.name = 'ScopeError';
  }
}

export interface SendOptions {
  method: string;
  /** A path (with query) under the target base, or an absolute URL, which must be on the target origin. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Act as this identity; `null` or absent sends no credentials. */
  as?: Identity | null;
}

export interface Exchange {
  status: number;
  headers: Record<string, string>;
  text: string;
  durationMs: number;
  /** Parsed JSON body when the response is JSON, else undefined. */
  json: unknown;
  evidence: Evidence;
}

export interface ClientOptions {
  target: string;
  /** Requests per second (cap). */
  rate: number;
  /** Accept certificates that do not verify (self-signed development gateways). */
  insecure?: boolean;
  /** Per-request timeout, milliseconds. */
  timeoutMs?: number;
  /** Every secret to scrub from evidence (identity values are added automatically). */
  secrets?: readonly string[];
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onRequest?: () => void;
}

/** Bodies kept in evidence, characters. */
const EVIDENCE_BODY = 2048;
/** Response bytes read at most per request. */
const MAX_RESPONSE = 1_048_576;
const SENSITIVE_HEADERS = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|x-auth-token|x-access-token)$/i;

/**
 * @example
 *   const client = new ScopedClient({ target: 'http://127.0.0.1:3000', rate: 20 });
 *   const res = await client.send({ method: 'GET', path: '/notes', as: alice });
 */
export class ScopedClient {
  readonly origin: string;
  readonly base: string;
  requests = 0;
  private readonly interval: number;
  private nextSlot = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly dispatcher: Dispatcher;
  private readonly secrets: string[];
  private readonly identityHeaders = new Set<string>();

  constructor(private readonly options: ClientOptions) {
    const url = new URL(options.target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('target must be an http(s) URL');
    this.origin = url.origin;
    this.base = url.pathname.replace(/\/+$/, '');
    this.interval = 1000 / options.rate;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.dispatcher = new Agent({ connect: { rejectUnauthorized: options.insecure !== true }, keepAliveTimeout: 2000, connections: 16 });
    this.secrets = [...(options.secrets ?? [])];
  }

  /** Registers an identity's value so it never appears in evidence. */
  protect(identity: Identity): void {
    this.identityHeaders.add(identity.header.toLowerCase());
    this.secrets.push(identity.value);
    const token = identity.value.replace(/^(Bearer|Basic|Token)\s+/i, '');
    if (token.length >= 6) this.secrets.push(token);
  }

  /** The absolute URL for `path`, or a {@link ScopeError} when it leaves the target origin. */
  resolve(path: string): URL {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(path) ? new URL(path) : new URL(`${this.base}${path.startsWith('/') ? '' : '/'}${path}`, this.origin);
    if (url.origin !== this.origin) throw new ScopeError(url.href, this.origin);
    return url;
  }

  async send(opts: SendOptions): Promise<Exchange> {
    const url = this.resolve(opts.path);
    const headers: Record<string, string> = { 'user-agent': 'rampart-scan/0.1', ...opts.headers };
    if (opts.as) headers[opts.as.header.toLowerCase()] = opts.as.value;
    await this.waitForSlot();
    this.requests++;
    this.options.onRequest?.();
    const started = this.now();
    const evidenceRequest = { method: opts.method, url: url.href, headers: this.redactHeaders(headers), body: opts.body === undefined ? undefined : this.clip(opts.body.toString()) };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: opts.method as Dispatcher.HttpMethod,
        headers,
        body: opts.body,
        dispatcher: this.dispatcher,
        headersTimeout: this.options.timeoutMs ?? 10_000,
        bodyTimeout: this.options.timeoutMs ?? 10_000,
      });
    } catch (err) {
      const durationMs = this.now() - started;
      const note = `no response: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      return { status: 0, headers: {}, text: '', durationMs, json: undefined, evidence: { request: evidenceRequest, note } };
    }
    const text = await readCapped(res.body);
    const durationMs = this.now() - started;
    const resHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
    let json: unknown;
    if (/json/i.test(resHeaders['content-type'] ?? '')) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return {
      status: res.statusCode,
      headers: resHeaders,
      text,
      durationMs,
      json,
      evidence: {
        request: evidenceRequest,
        response: { status: res.statusCode, headers: this.redactHeaders(resHeaders), body: this.clip(text), durationMs },
      },
    };
  }

  /** Scrubs every known secret out of `text`. */
  redact(text: string): string {
    let out = text;
    // Very short values (a user name used as a demo identity) would redact ordinary words; headers are always redacted.
    for (const s of this.secrets) if (s.length >= 8) out = out.split(s).join('[REDACTED]');
    return out;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private redactHeaders(headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) {
      out[k] = SENSITIVE_HEADERS.test(k) || this.identityHeaders.has(k.toLowerCase()) ? redactValue(v) : this.redact(v);
    }
    return out;
  }

  private clip(text: string): string {
    const red = this.redact(text);
    return red.length > EVIDENCE_BODY ? `${red.slice(0, EVIDENCE_BODY)}… [${red.length - EVIDENCE_BODY} more characters]` : red;
  }

  /** Spaces request starts `1000/rate` ms apart, however many checks run concurrently. */
  private async waitForSlot(): Promise<void> {
    const now = this.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.interval;
    if (slot > now) await this.sleep(slot - now);
  }
}

/** Keeps the scheme word (`Bearer`) so evidence stays readable, drops the credential. */
function redactValue(value: string): string {
  const m = /^(Bearer|Basic|Token|Digest)\s+/i.exec(value);
  return m ? `${m[1]} [REDACTED]` : '[REDACTED]';
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_RESPONSE) {
      chunks.push(chunk.subarray(0, chunk.length - (size - MAX_RESPONSE)));
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
