/**
 * Admin API for limits and lockouts: see the counters of the shared backend and clear one
 * (an operator lifting a lockout, or resetting a consumer's quota). Every reset is an event.
 */
import { AdminResult, type AdminRoute } from '../../admin/server.js';
import { RampartError } from '../../core/errors.js';
import type { Services } from '../../core/services.js';
import { kindOfKey } from '../../stores/counter-store.js';

const MAX_LIST = 1000;

function checkedKey(raw: string): string {
  if (raw.length > 512 || kindOfKey(raw) === undefined || /[\s*?[\]\\]/.test(raw)) {
    throw new RampartError('RAMPART_BAD_REQUEST', 'A limit key looks like rate:NAME:PARTITION, quota:…, conc:… or lockout:ip|principal:…');
  }
  return raw;
}

function listSize(raw: string | null): number {
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST) throw new RampartError('RAMPART_BAD_REQUEST', `max must be an integer from 1 to ${MAX_LIST}.`);
  return n;
}

/**
 * `GET /admin/v1/limits[?prefix=rate:pets&max=100]`, `GET /admin/v1/limits/lockouts`,
 * `GET|DELETE /admin/v1/limits/{key}` (key as listed, URL-encoded).
 *
 * @example
 *   startAdminServer(config.admin, services, { ready, routes: [...limitsAdminRoutes(services)] })
 */
export function limitsAdminRoutes(services: Services): AdminRoute[] {
  const { counters } = services;
  return [
    {
      method: 'GET',
      path: '/admin/v1/limits',
      async handle(req) {
        const prefix = req.query.get('prefix') ?? '';
        if (prefix.length > 512) throw new RampartError('RAMPART_BAD_REQUEST', 'prefix is too long.');
        return { backend: counters.health(), entries: await counters.list(prefix, listSize(req.query.get('max'))) };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/limits/lockouts',
      async handle(req) {
        const now = Date.now();
        const entries = await counters.list('lockout:', listSize(req.query.get('max')));
        return { lockouts: entries.map((e) => ({ ...e, locked: (e.state.lockedUntil ?? 0) > now })) };
      },
    },
    {
      method: 'GET',
      path: '/admin/v1/limits/{key}',
      async handle(req) {
        const key = checkedKey(req.params.key!);
        const found = (await counters.list(key, MAX_LIST)).find((e) => e.key === key);
        if (found === undefined) throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No such limit counter (it may have expired).');
        return found;
      },
    },
    {
      method: 'DELETE',
      path: '/admin/v1/limits/{key}',
      async handle(req) {
        const key = checkedKey(req.params.key!);
        if (!(await counters.reset(key))) throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No such limit counter (it may have expired).');
        services.emit({
          type: 'limits.reset',
          severity: 'medium',
          source: 'admin',
          reason: `${key} cleared by ${req.principal?.name ?? 'unknown'}`,
          requestId: req.id,
          data: { key, by: req.principal?.id },
          time: Date.now(),
        });
        return new AdminResult(204, undefined);
      },
    },
  ];
}
