/**
 * The observe module of a running gateway: every security event (`services.emit`) and every
 * finished request (`services.observeRequest`) flows through here into the access log, metrics,
 * the hash-chained audit log, the detectors and the alert sinks. Nothing here blocks a request:
 * audit writes and alert deliveries are asynchronous and bounded.
 */
import type { Logger } from 'pino';
import type { RequestContext } from '../core/context.js';
import type { SecurityEvent } from '../core/events.js';
import type { RampartConfig } from '../config/schema.js';
import type { AuditRecord, AuditStore } from '../stores/audit.js';
import { openAuditStore } from '../stores/open-audit.js';
import { AccessLog } from './access-log.js';
import { AuditWriter } from './audit/writer.js';
import { AlertDispatcher } from './alerts/dispatcher.js';
import { Detectors, type Detection, type RequestFacts } from './detectors/detectors.js';
import { LruMap } from './detectors/window.js';
import { GatewayMetrics, statusClass } from './metrics.js';
import { Redactor } from './redact.js';

export interface ObserverOptions {
  readonly logger: Logger;
  /** Clock, milliseconds since the epoch (tests inject one). */
  readonly now?: () => number;
  /** The other processes of `rampart start --workers N` (src/server/cluster.ts); absent in a single process. */
  readonly cluster?: ClusterPeer;
}

/** What the observer of one cluster worker needs from the others (through the primary). */
export interface ClusterPeer {
  /** Tells every other process about a block decided here (`until`: epoch milliseconds). */
  shareBlock(ip: string, until: number): void;
  /** Prometheus text of every live process, aggregated; rejects (503) when one does not answer in time. */
  metrics(): Promise<string>;
}

/** Bounded audit record fields: a hostile path or reason cannot bloat the log. */
const MAX_FIELD = 1024;
const cap = (v: string | undefined): string | undefined => (v === undefined || v.length <= MAX_FIELD ? v : `${v.slice(0, MAX_FIELD)}…`);

/**
 * @example
 *   const observer = new Observer(config, { logger });
 *   await observer.openAudit(config, baseDir);
 *   const services = { logger, emit: observer.emit, observeRequest: observer.observeRequest, isBlocked: observer.isBlocked };
 */
export class Observer {
  readonly metrics: GatewayMetrics;
  readonly alerts: AlertDispatcher;
  private readonly detectors: Detectors;
  private readonly redactors = new WeakMap<RampartConfig, { redactor: Redactor; segments: Map<string, readonly number[]> }>();
  /** The config of the latest request: events name routes by id, their patterns live here. */
  private latest: RampartConfig;
  private readonly eventRedactor: Redactor;
  private readonly blocks: LruMap<string, number>;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly cluster: ClusterPeer | undefined;
  private readonly accessLog: AccessLog;
  private writer: AuditWriter | undefined;
  private readonly logFlush: NodeJS.Timeout;
  private store: AuditStore | undefined;
  /** Events emitted before the audit store is open (bounded like the writer's queue). */
  private early: AuditRecord[] | undefined = [];

  constructor(private readonly config: RampartConfig, options: ObserverOptions) {
    const o = config.observe;
    this.logger = options.logger;
    this.accessLog = new AccessLog(options.logger);
    this.latest = config;
    this.now = options.now ?? Date.now;
    this.cluster = options.cluster;
    this.metrics = new GatewayMetrics({ processMetrics: o.metrics.processMetrics });
    this.eventRedactor = new Redactor({ redact: config.log.redact });
    this.blocks = new LruMap(o.detectors.maxTracked);
    if (config.counters !== 'memory') this.metrics.componentUp.set({ component: 'counters' }, 1);
    this.alerts = new AlertDispatcher(o.alerts.sinks, { now: this.now, metrics: this.metrics, logger: this.logger, record: (e) => this.emit(e) });
    this.detectors = new Detectors(o.detectors, this.onDetection);
    // The async destination writes in 4 KiB chunks: on a quiet gateway lines would wait indefinitely.
    this.logFlush = setInterval(() => {
      this.accessLog.flush();
      this.logger.flush();
      this.pruneBlocks();
    }, 1000);
    this.logFlush.unref();
  }

  /** Opens the audit store named by `config.store` (or uses `store`) and starts writing. */
  async openAudit(baseDir: string, store?: AuditStore): Promise<void> {
    const a = this.config.observe.audit;
    if (!a.enabled) {
      this.early = undefined;
      return;
    }
    this.store = store ?? (await openAuditStore(this.config.store, { baseDir, key: auditKey(this.config) }));
    this.writer = new AuditWriter(this.store, a, this.metrics, this.logger);
    for (const r of this.early ?? []) this.writer.enqueue(r);
    this.early = undefined;
  }

  /** The event sink (`services.emit`). Never throws, never waits. */
  readonly emit = (raw: SecurityEvent): void => {
    const event = this.sanitize(raw);
    this.metrics.events.inc({ type: this.metrics.types.value(event.type), severity: event.severity });
    // The counter store (Redis) reports its health as events; mirror it as a gauge for scrapers.
    if (event.type === 'counters.unavailable' || event.type === 'counters.recovered') this.metrics.componentUp.set({ component: 'counters' }, event.type === 'counters.recovered' ? 1 : 0);
    this.logger.info({ event }, 'security event');
    const record = toRecord(event);
    if (this.writer !== undefined) this.writer.enqueue(record);
    else if (this.early !== undefined && this.early.length < this.config.observe.audit.maxQueue) this.early.push(record);
    this.alerts.consider(event);
  };

  /** After each request (`services.observeRequest`): access log, metrics, detectors. */
  readonly observeRequest = (ctx: RequestContext, config: RampartConfig): void => {
    this.latest = config;
    if (config.log.access) {
      const r = this.redactorFor(config);
      this.accessLog.write(ctx, r.redactor, (ctx.route !== undefined && r.segments.get(ctx.route.id)) || []);
    }
    const m = this.metrics;
    const status = ctx.status || ctx.res.statusCode;
    const cls = ctx.res.writableFinished || ctx.status !== 0 ? statusClass(status) : 'aborted';
    const route = m.routes.value(ctx.route?.id);
    m.requests.inc({ route, method: m.method(ctx.method), status_class: cls });
    m.latency.observe({ route, status_class: cls }, (performance.now() - ctx.startedAt) / 1000);
    let code: string | undefined;
    let injection = false;
    for (const e of ctx.events) {
      if (e.type === 'request.denied') code ??= e.code;
      if (e.type.startsWith('injection.') || (e.code !== undefined && /INJECTION|WAF/.test(e.code))) injection = true;
    }
    if (code !== undefined) {
      m.denials.inc({ route, stage: m.stages.value(ctx.decidedBy), code: m.codes.value(code) });
      if (code === 'RAMPART_RATE_LIMITED' || code.includes('QUOTA')) m.rateLimited.inc({ route });
      if (status === 401) m.authFailures.inc({ route, code: m.codes.value(code) });
    } else if (ctx.decidedBy === 'forward' && status >= 500) {
      m.upstreamErrors.inc({ route, kind: status === 504 ? 'timeout' : status === 502 ? 'unavailable' : 'bad_response' });
    }
    const facts: RequestFacts = {
      time: this.now(),
      requestId: ctx.id,
      clientIp: ctx.clientIp,
      route: ctx.route?.id,
      status,
      code,
      consumer: ctx.identity?.consumer,
      principal: ctx.attemptedPrincipal ?? ctx.identity?.consumer,
      credential: ctx.identity?.credentialId,
      objectIds: Object.values(ctx.params),
      injection,
    };
    this.detectors.observe(facts);
  };

  /** Forgets ended blocks, so the gauge counts blocks in force, not blocks whose client never came back. */
  private pruneBlocks(): void {
    const now = this.now();
    this.blocks.retain((until) => until > now);
    this.metrics.blockedIps.set(this.blocks.size);
  }

  /** True while a detector response blocks this client address (`services.isBlocked`). */
  readonly isBlocked = (ip: string): boolean => {
    const until = this.blocks.get(ip);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.blocks.delete(ip);
    this.metrics.blockedIps.set(this.blocks.size);
    return false;
  };

  /**
   * A block decided by another process of the cluster: enforced here too. No event: the deciding
   * process recorded `incident.ip_blocked` once.
   */
  applyBlock(ip: string, until: number): void {
    if (until > this.now()) this.block(ip, until);
  }

  /** The metrics endpoint's text: this process's registry, or the whole cluster's when a worker. */
  metricsText(): Promise<string> {
    return this.cluster === undefined ? this.metrics.registry.metrics() : this.cluster.metrics();
  }

  /** Feeds the detectors directly (tests, and facts that do not come from a request). */
  observeFacts(facts: RequestFacts): void {
    this.detectors.observe(facts);
  }

  /** Audit store, once open (admin API, tests). */
  get auditStore(): AuditStore | undefined {
    return this.store;
  }

  /** Writes queued audit events now. */
  async flush(): Promise<void> {
    await this.alerts.idle();
    await this.writer?.flush();
  }

  async close(): Promise<void> {
    clearInterval(this.logFlush);
    this.accessLog.flush();
    await this.alerts.close();
    await this.writer?.close();
    // Idempotent: a second stop must not end a PostgreSQL pool twice.
    const store = this.store;
    this.store = undefined;
    this.writer = undefined;
    await store?.close();
  }

  private readonly onDetection = (d: Detection): void => {
    this.metrics.detections.inc({ detector: String(d.event.data?.['detector'] ?? 'other') });
    this.emit(d.event);
    const ip = d.event.clientIp;
    if (d.blockSeconds > 0 && ip !== undefined) {
      const until = this.now() + d.blockSeconds * 1000;
      this.block(ip, until);
      this.cluster?.shareBlock(ip, until);
      this.emit({
        type: 'incident.ip_blocked',
        severity: 'medium',
        source: 'detector',
        clientIp: ip,
        reason: `address blocked for ${d.blockSeconds} s after ${d.event.type}`,
        time: this.now(),
        data: { until: new Date(until).toISOString(), trigger: d.event.type },
      });
    }
  };

  /** Keeps the later end when blocks overlap: messages from other processes may arrive out of order. */
  private block(ip: string, until: number): void {
    this.blocks.set(ip, Math.max(until, this.blocks.get(ip) ?? 0));
    this.metrics.blockedIps.set(this.blocks.size);
  }

  private redactorFor(config: RampartConfig): { redactor: Redactor; segments: Map<string, readonly number[]> } {
    let r = this.redactors.get(config);
    if (r === undefined) {
      const redactor = new Redactor({ redact: config.log.redact, queryValues: config.log.queryValues });
      const segments = new Map(config.routes.map((route) => [route.id, redactor.sensitiveSegments(route.path)] as const).filter(([, s]) => s.length > 0));
      this.redactors.set(config, (r = { redactor, segments }));
    }
    return r;
  }

  private sanitize(e: SecurityEvent): SecurityEvent {
    const r = this.eventRedactor;
    return {
      ...e,
      reason: e.reason === undefined ? undefined : r.text(e.reason),
      path: e.path === undefined ? undefined : cap(r.path(e.path, (e.route !== undefined && this.redactorFor(this.latest).segments.get(e.route)) || [])),
      data: e.data === undefined ? undefined : (r.data(e.data) as Record<string, unknown>),
    };
  }
}

/** The chain key from the config, if any. */
export function auditKey(config: RampartConfig): Buffer | undefined {
  const k = config.observe.audit.key;
  return k === undefined ? undefined : Buffer.from(k, 'utf8');
}

/** Deterministic JSON (sorted keys): what the hash covers must not depend on insertion order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function toRecord(e: SecurityEvent): AuditRecord {
  return {
    time: e.time,
    type: cap(e.type)!,
    severity: e.severity,
    source: cap(e.source)!,
    code: cap(e.code),
    reason: cap(e.reason),
    requestId: cap(e.requestId),
    clientIp: cap(e.clientIp),
    consumer: cap(e.consumer),
    route: cap(e.route),
    method: cap(e.method),
    path: e.path,
    data: e.data === undefined ? undefined : canonicalJson(e.data),
  };
}
