/**
 * The access log: one JSON line per request, built field by field from the request context (never
 * from headers or bodies), so credentials cannot reach it by construction. Query values are
 * replaced unless allow-listed (`log.queryValues`); sensitive path parameters are replaced too.
 */
import pino, { type Logger } from 'pino';
import type { RequestContext } from '../core/context.js';
import type { Redactor } from './redact.js';
import { traceId } from './tracing.js';

interface LineSink {
  write(line: string): unknown;
}

/** The ISO time of the last line's millisecond: at gateway rates many lines share one (toISOString ≈ 0.6 µs). */
let isoMs = 0;
let iso = '';
function isoTime(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    iso = new Date(ms).toISOString();
  }
  return iso;
}

/** A batch this long (characters) is handed over at once instead of at the end of the turn. */
const BATCH_CHARS = 8192;

/**
 * Writes access lines in pino's line format (level, time, pid, fields, msg) straight to the
 * process logger's destination. Why not `logger.info()`: pino's generic serialisation (bindings,
 * per-key stringify, hooks) measured ~5 µs of CPU per line and `bench/access-log-cpu.ts` ~15 µs
 * with the write, against well under 1 µs for one `JSON.stringify` of this fixed-shape object; at
 * gateway rates that was several percent of all CPU.
 *
 * Lines are handed to the destination in batches (once per event-loop turn, or every
 * {@link BATCH_CHARS}): sonic-boom measures the UTF-8 length of its whole pending chunk on every
 * `write`, flattening a string of up to 16 KiB each time, which made a write per line cost more
 * instructions than building the line (callgrind, docs/performance.md).
 *
 * @example
 *   const access = new AccessLog(logger);
 *   access.write(ctx, redactor, redactor.sensitiveSegments(ctx.route.config.path));
 */
export class AccessLog {
  private readonly sink: LineSink;
  private batch = '';
  private scheduled = false;

  constructor(private readonly logger: Logger) {
    this.sink = (logger as unknown as Record<symbol, LineSink>)[pino.symbols.streamSym]!;
  }

  write(ctx: RequestContext, redactor: Redactor, sensitiveSegments: readonly number[]): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const line = JSON.stringify({
      level: 30,
      time: isoTime(),
      pid: process.pid,
      requestId: ctx.id,
      traceId: traceId(ctx.upstreamHeaders['traceparent']),
      clientIp: ctx.clientIp,
      method: ctx.method,
      route: ctx.route?.id,
      path: redactor.path(ctx.rawPath, sensitiveSegments),
      query: ctx.query === '' ? undefined : redactor.query(ctx.query),
      status: ctx.status || ctx.res.statusCode,
      latencyMs: Math.round((performance.now() - ctx.startedAt) * 1000) / 1000,
      bytesIn: ctx.bytesIn,
      bytesOut: ctx.bytesOut,
      consumer: ctx.identity?.consumer,
      credential: ctx.identity?.credentialId,
      decidedBy: ctx.decidedBy,
      reason: ctx.reason === undefined ? undefined : redactor.text(ctx.reason),
      msg: 'request',
    });
    this.batch += `${line}\n`;
    if (this.batch.length >= BATCH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Hands the pending lines to the destination (which batches its own writes; `logger.flush()` forces those). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.batch === '') return;
    this.sink.write(this.batch);
    this.batch = '';
  };
}
