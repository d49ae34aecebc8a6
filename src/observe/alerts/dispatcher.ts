/**
 * Alert sinks: each security event at or above a sink's severity is sent to it, de-duplicated
 * (same key within `dedupSeconds` → sent once), throttled (`maxPerMinute`), retried with
 * exponential backoff, and dead-lettered (an `alert.dead_letter` event in the audit log) when the
 * sink stays down or throttles it: no alert is silently lost.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { Logger } from 'pino';
import type { SecurityEvent } from '../../core/events.js';
import { SEVERITIES } from '../../stores/audit.js';
import type { SinkConfig } from '../config.js';
import type { GatewayMetrics } from '../metrics.js';
import { LruMap } from '../detectors/window.js';
import { SIGNATURE_HEADER, signWebhook } from './signature.js';

export interface AlertDeps {
  readonly now: () => number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Records alert outcomes (`alert.sent`, `alert.dead_letter`) as security events. */
  readonly record: (event: SecurityEvent) => void;
}

/** The JSON body of a generic webhook alert. */
export interface AlertPayload {
  readonly id: string;
  readonly version: 1;
  readonly time: string;
  readonly dedupKey: string;
  /** Same-key alerts suppressed since the previous delivery. */
  readonly suppressed: number;
  readonly event: SecurityEvent;
}

interface SinkState {
  readonly config: SinkConfig;
  readonly minRank: number;
  readonly recent: LruMap<string, { sentAt: number; suppressed: number }>;
  /** Send times within the last minute (throttle). */
  readonly sends: number[];
}

const rank = (s: SecurityEvent['severity']): number => SEVERITIES.indexOf(s);

/** The key that makes two alerts "the same": the detector's key, else type + subject. */
export function dedupKey(event: SecurityEvent): string {
  const k = event.data?.['dedupKey'];
  if (typeof k === 'string') return k;
  return `${event.type}:${event.clientIp ?? ''}:${event.consumer ?? ''}:${event.code ?? ''}`;
}

/**
 * @example
 *   const alerts = new AlertDispatcher(config.observe.alerts.sinks, { now: Date.now, metrics, logger, record: emit });
 *   alerts.consider(event);
 */
export class AlertDispatcher {
  private readonly sinks: SinkState[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closing = false;

  constructor(sinks: readonly SinkConfig[], private readonly deps: AlertDeps) {
    this.sinks = sinks.map((config) => ({ config, minRank: rank(config.minSeverity), recent: new LruMap(10_000), sends: [] }));
  }

  /** Called for every security event; cheap when no sink wants it. */
  consider(event: SecurityEvent): void {
    // Alert outcomes are recorded as events too; alerting on them would loop.
    if (this.sinks.length === 0 || event.type.startsWith('alert.')) return;
    const r = rank(event.severity);
    for (const sink of this.sinks) if (r >= sink.minRank) this.route(sink, event);
  }

  /** Resolves when every delivery in progress has finished (sent or dead-lettered). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops retrying: pending retries are dead-lettered now. */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    await this.idle();
  }

  private route(sink: SinkState, event: SecurityEvent): void {
    const { name, dedupSeconds, maxPerMinute } = sink.config;
    const now = this.deps.now();
    const key = dedupKey(event);
    const last = sink.recent.get(key);
    if (last !== undefined && now - last.sentAt < dedupSeconds * 1000) {
      last.suppressed++;
      this.deps.metrics.alerts.inc({ sink: name, outcome: 'deduplicated' });
      return;
    }
    while (sink.sends.length > 0 && sink.sends[0]! <= now - 60_000) sink.sends.shift();
    const payload: AlertPayload = { id: randomUUID(), version: 1, time: new Date(now).toISOString(), dedupKey: key, suppressed: last?.suppressed ?? 0, event };
    if (sink.sends.length >= maxPerMinute) {
      this.deps.metrics.alerts.inc({ sink: name, outcome: 'throttled' });
      this.deadLetter(sink, payload, 0, 'throttled');
      return;
    }
    sink.sends.push(now);
    sink.recent.set(key, { sentAt: now, suppressed: 0 });
    const p = this.deliver(sink, payload).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliver(sink: SinkState, payload: AlertPayload): Promise<void> {
    const { config } = sink;
    const body = config.type === 'slack' ? JSON.stringify(slackMessage(payload)) : JSON.stringify(payload);
    let lastError = '';
    for (let attempt = 0; attempt <= config.retries; attempt++) {
      if (attempt > 0) {
        if (this.closing) break;
        this.deps.metrics.alerts.inc({ sink: config.name, outcome: 'retried' });
        await this.sleep(config.backoffMs * 2 ** (attempt - 1));
        if (this.closing) break;
      }
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'rampart-alerts/1', 'x-rampart-alert-id': payload.id };
        if (config.type === 'webhook' && config.secret !== undefined) headers[SIGNATURE_HEADER] = signWebhook(config.secret, body, Math.floor(this.deps.now() / 1000));
        const res = await request(config.url, { method: 'POST', headers, body, headersTimeout: config.timeoutMs, bodyTimeout: config.timeoutMs });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          this.deps.metrics.alerts.inc({ sink: config.name, outcome: 'sent' });
          this.deps.record({ type: 'alert.sent', severity: 'info', source: 'alerts', time: this.deps.now(), data: { sink: config.name, alertId: payload.id, dedupKey: payload.dedupKey, eventType: payload.event.type, attempts: attempt + 1 } });
          return;
        }
        lastError = `HTTP ${res.statusCode}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    this.deadLetter(sink, payload, config.retries + 1, this.closing ? `shutdown (last error: ${lastError})` : lastError);
  }

  private deadLetter(sink: SinkState, payload: AlertPayload, attempts: number, why: string): void {
    this.deps.metrics.alerts.inc({ sink: sink.config.name, outcome: 'dead_lettered' });
    this.deps.logger.warn({ sink: sink.config.name, alertId: payload.id, why }, 'alert not delivered; dead-lettered in the audit log');
    this.deps.record({
      type: 'alert.dead_letter',
      severity: 'high',
      source: 'alerts',
      reason: `alert to sink ${sink.config.name} not delivered: ${why}`,
      time: this.deps.now(),
      data: { sink: sink.config.name, attempts, alert: payload },
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(entry);
    });
  }
}

/** Slack incoming-webhook message: one line of text with the essentials. */
export function slackMessage(p: AlertPayload): { text: string } {
  const e = p.event;
  const where = [e.clientIp && `address ${e.clientIp}`, e.consumer && `consumer ${e.consumer}`, e.route && `route ${e.route}`].filter(Boolean).join(', ');
  const more = p.suppressed > 0 ? ` (+${p.suppressed} similar suppressed)` : '';
  return { text: `:rotating_light: [${e.severity.toUpperCase()}] ${e.type}: ${e.reason ?? e.code ?? ''}${where === '' ? '' : ` (${where})`}${more}` };
}
