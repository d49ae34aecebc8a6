/**
 * Prometheus metrics of one gateway process (prom-client, own registry). Every label value comes
 * from a closed set (route ids from the config, status classes, stage names, error codes, event
 * types from code) and is additionally capped by {@link BoundedLabel}: paths, addresses and
 * consumers never become labels.
 *
 * Under `rampart start --workers N` the endpoint shows the registries of all workers merged by
 * prom-client's `AggregatorRegistry.aggregate` (src/server/cluster.ts): counters and histograms
 * add up; each gauge names its `aggregator` below.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Caps the distinct values of one label; anything past the cap is reported as `other`. */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  value(v: string | undefined): string {
    if (v === undefined || v === '') return 'none';
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max || !/^[A-Za-z0-9_.:-]{1,80}$/.test(v)) return 'other';
    this.seen.add(v);
    return v;
  }
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** `204` → `2xx`; 0 (client went away before a status) → `aborted`. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'aborted';
}

/**
 * @example
 *   const m = new GatewayMetrics({ processMetrics: false });
 *   m.requests.inc({ route: 'pets', method: 'GET', status_class: '2xx' });
 *   const text = await m.registry.metrics();
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly routes = new BoundedLabel(500);
  readonly stages = new BoundedLabel(100);
  readonly codes = new BoundedLabel(200);
  readonly types = new BoundedLabel(200);

  readonly requests = new Counter({ name: 'rampart_requests_total', help: 'Requests by route, method and status class', labelNames: ['route', 'method', 'status_class'], registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'rampart_request_duration_seconds',
    help: 'Time from request arrival to the end of the response, by route and status class',
    labelNames: ['route', 'status_class'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly denials = new Counter({ name: 'rampart_denials_total', help: 'Requests refused by the gateway, by route, deciding stage and error code', labelNames: ['route', 'stage', 'code'], registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'rampart_rate_limit_hits_total', help: 'Requests refused by a rate limit or quota, by route', labelNames: ['route'], registers: [this.registry] });
  readonly authFailures = new Counter({ name: 'rampart_auth_failures_total', help: 'Failed authentications, by route and error code', labelNames: ['route', 'code'], registers: [this.registry] });
  readonly upstreamErrors = new Counter({ name: 'rampart_upstream_errors_total', help: 'Upstream failures, by route and kind (unavailable, timeout, bad_response)', labelNames: ['route', 'kind'], registers: [this.registry] });
  readonly events = new Counter({ name: 'rampart_security_events_total', help: 'Security events by type and severity', labelNames: ['type', 'severity'], registers: [this.registry] });
  readonly detections = new Counter({ name: 'rampart_detections_total', help: 'Detector firings, by detector', labelNames: ['detector'], registers: [this.registry] });
  readonly auditWritten = new Counter({ name: 'rampart_audit_written_total', help: 'Events written to the audit log', registers: [this.registry] });
  readonly auditDropped = new Counter({ name: 'rampart_audit_dropped_total', help: 'Events not written to the audit log because the in-memory queue was full', registers: [this.registry] });
  readonly auditWriteFailures = new Counter({ name: 'rampart_audit_write_failures_total', help: 'Failed audit log write transactions (retried)', registers: [this.registry] });
  /** Each process queues its own events: the cluster's backlog is the sum. */
  readonly auditQueue = new Gauge({ name: 'rampart_audit_queue_depth', help: 'Events waiting to be written to the audit log', aggregator: 'sum', registers: [this.registry] });
  /** Processes append to one chain in the shared store: the newest entry is the highest sequence any of them wrote. */
  readonly auditHead = new Gauge({ name: 'rampart_audit_head_seq', help: 'Sequence number of the newest audit log entry written (under --workers: the highest of the processes)', aggregator: 'max', registers: [this.registry] });
  /** A dependency is up only if every process reaches it: one process failing to write must show. */
  readonly componentUp = new Gauge({ name: 'rampart_component_up', help: 'Health of a dependency (1 up, 0 down): audit_store, and stores/counters as they register', labelNames: ['component'], aggregator: 'min', registers: [this.registry] });
  readonly alerts = new Counter({ name: 'rampart_alerts_total', help: 'Alerts by sink and outcome (sent, deduplicated, throttled, retried, dead_lettered)', labelNames: ['sink', 'outcome'], registers: [this.registry] });
  /** Blocks are broadcast, so every process holds the same set: a sum would count each address once per process. */
  readonly blockedIps = new Gauge({ name: 'rampart_blocked_addresses', help: 'Client addresses currently blocked by a detector response', aggregator: 'max', registers: [this.registry] });

  constructor(options: { processMetrics: boolean }) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'rampart_process_' });
  }

  /** The request method as a label (unknown methods collapse to OTHER). */
  method(m: string): string {
    return METHODS.has(m) ? m : 'OTHER';
  }
}
