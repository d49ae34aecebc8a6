/**
 * Admin API of the observe module: `GET /metrics` (Prometheus; the whole cluster under
 * `--workers`), `GET /admin/v1/events` (audit log query with filters and pagination) and
 * `GET /admin/v1/events/verify` (chain check).
 * All need an admin token (any role, auditors included): metrics reveal traffic and attack
 * patterns, so they are not public even on loopback. Configure Prometheus with
 * `authorization: { credentials: <token> }`.
 */
import { RampartError } from '../core/errors.js';
import type { AdminRoute } from '../admin/server.js';
import { SEVERITIES, type AuditEntry, type AuditQuery } from '../stores/audit.js';
import { verifyAuditStore } from './audit/verify.js';
import { auditKey, type Observer } from './observer.js';
import type { RampartConfig } from '../config/schema.js';

const READERS = ['admin', 'operator', 'auditor'] as const;

/** An audit entry as the API and `export --format jsonl` show it (`data` parsed, time as ISO too). */
export function presentEntry(e: AuditEntry): Record<string, unknown> {
  let data: unknown;
  try {
    data = e.data === undefined ? undefined : JSON.parse(e.data);
  } catch {
    data = e.data;
  }
  return { ...e, timestamp: new Date(e.time).toISOString(), data };
}

/** Parses `2024-05-01T00:00:00Z`, epoch milliseconds, or a duration before now (`24h`, `15m`, `7d`). */
export function parseTime(text: string, now: number): number | undefined {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const rel = /^(\d{1,9})(s|m|h|d)$/.exec(text);
  if (rel !== null) return now - Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  return Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(text) ? undefined : t;
}

const bad = (detail: string): RampartError => new RampartError('RAMPART_BAD_REQUEST', detail);

/** Query-string filters → {@link AuditQuery}; every malformed value is a precise 400. */
export function eventsQuery(q: URLSearchParams, now: number): AuditQuery {
  const known = new Set(['type', 'severity', 'since', 'until', 'ip', 'consumer', 'route', 'request_id', 'order', 'cursor', 'limit']);
  for (const k of q.keys()) if (!known.has(k)) throw bad(`Unknown filter ${JSON.stringify(k.slice(0, 40))}; known: ${[...known].join(', ')}.`);
  const one = (name: string, max = 200): string | undefined => {
    const all = q.getAll(name);
    if (all.length > 1) throw bad(`Give ${name} at most once.`);
    const v = all[0];
    if (v !== undefined && (v === '' || v.length > max)) throw bad(`${name} must be 1-${max} characters.`);
    return v;
  };
  const time = (name: string): number | undefined => {
    const v = one(name, 40);
    if (v === undefined) return undefined;
    const t = parseTime(v, now);
    if (t === undefined) throw bad(`${name} must be an ISO date, epoch milliseconds or a duration like 24h.`);
    return t;
  };
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = one(name, 16);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw bad(`${name} must be an integer from ${min} to ${max}.`);
    return Number(v);
  };
  const types = one('type', 500)?.split(',');
  if (types !== undefined && types.some((t) => !/^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$/.test(t))) throw bad('type must be comma-separated event types like auth.failure or prefixes like detection.*.');
  const severity = one('severity', 10);
  if (severity !== undefined && !(SEVERITIES as readonly string[]).includes(severity)) throw bad(`severity must be one of ${SEVERITIES.join(', ')}.`);
  const order = one('order', 4);
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw bad('order must be asc or desc.');
  return {
    types,
    minSeverity: severity as AuditQuery['minSeverity'],
    since: time('since'),
    until: time('until'),
    clientIp: one('ip', 64),
    consumer: one('consumer'),
    route: one('route', 64),
    requestId: one('request_id', 128),
    order: order as AuditQuery['order'],
    cursor: int('cursor', 0, Number.MAX_SAFE_INTEGER),
    limit: int('limit', 1, 1000) ?? 100,
  };
}

/**
 * @example
 *   startAdminServer(config.admin, services, { ready, routes: [...observeAdminRoutes(observer), ...others] });
 */
export function observeAdminRoutes(observer: Observer, config: RampartConfig): AdminRoute[] {
  const store = (): NonNullable<Observer['auditStore']> => {
    const s = observer.auditStore;
    if (s === undefined) throw new RampartError('RAMPART_SERVICE_UNAVAILABLE', 'The audit log is disabled or not open.');
    return s;
  };
  const routes: AdminRoute[] = [
    {
      method: 'GET',
      path: '/admin/v1/events',
      roles: READERS,
      async handle({ query }) {
        const page = await store().query(eventsQuery(query, Date.now()));
        return { items: page.entries.map(presentEntry), next: page.next ?? null };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/events/verify',
      roles: ['admin', 'auditor'],
      async handle() {
        await observer.flush();
        return verifyAuditStore(store(), auditKey(config));
      },
    },
  ];
  if (config.observe.metrics.enabled) {
    routes.push({
      method: 'GET',
      path: '/metrics',
      roles: READERS,
      async handle({ res, id }) {
        // Under --workers: every worker's metrics merged by the primary, or a 503 problem when one
        // does not answer in time (a partial sum would look like a counter reset to Prometheus).
        const text = await observer.metricsText();
        res.writeHead(200, { 'content-type': observer.metrics.registry.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-request-id': id });
        res.end(text);
      },
    });
  }
  return routes;
}
