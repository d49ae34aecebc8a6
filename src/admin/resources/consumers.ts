import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RampartError } from '../../core/errors.js';
import type { Services } from '../../core/services.js';
import type { Consumer, ConsumerStore } from '../../stores/contracts.js';
import { AdminResult, type AdminPrincipal } from '../server.js';
import { readJson, readQuery, route, type DocumentedRoute } from '../input.js';

export const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . @ - (starting with a letter or digit)');
/** Roles and scopes: `pets:read`, `admin`, `orders.write`. */
export const GRANT = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:*/-]{0,63}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . : * / -');
export const GRANTS = z.array(GRANT).max(100).refine((a) => new Set(a).size === a.length, 'must not repeat entries');
const TENANT = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -').nullable();
const METADATA = z.record(z.string().max(64), z.unknown()).refine((m) => JSON.stringify(m).length <= 8192, 'must be at most 8 KiB as JSON');

const createInput = z.object({ name: NAME, roles: GRANTS.default([]), scopes: GRANTS.default([]), tenant: TENANT.default(null), metadata: METADATA.default({}) }).strict();
const patchInput = z.object({ roles: GRANTS, scopes: GRANTS, tenant: TENANT, metadata: METADATA, status: z.enum(['active', 'suspended']) }).partial().strict();
export const PAGE = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), after: z.string().max(200).optional() }).strict();

/** JSON shape of a consumer in the admin API. */
export function consumerJson(c: Consumer): Record<string, unknown> {
  return { ...c, createdAt: new Date(c.createdAt).toISOString(), updatedAt: new Date(c.updatedAt).toISOString() };
}

/** Finds a consumer by id or by name (the CLI uses names). */
export async function findConsumer(store: ConsumerStore, ref: string): Promise<Consumer> {
  const c = (await store.getConsumer(ref)) ?? (await store.getConsumerByName(ref));
  if (c === undefined) throw new RampartError('RAMPART_ADMIN_NOT_FOUND', `No consumer ${JSON.stringify(ref.slice(0, 80))}.`);
  return c;
}

/** Records an admin change (the audit log persists these events). Never carries secrets. */
export function auditChange(services: Services, principal: AdminPrincipal | undefined, action: string, target: Record<string, unknown>): void {
  services.emit({
    type: 'admin.change',
    severity: 'info',
    source: 'admin',
    time: Date.now(),
    data: { action, actor: principal?.name, actorId: principal?.id, actorRole: principal?.role, target },
  });
}

/**
 * `/admin/v1/consumers`: create, list, get, update, suspend, resume.
 *
 * @example
 *   curl -H "Authorization: Bearer $RAMPART_ADMIN_TOKEN" http://127.0.0.1:9901/admin/v1/consumers
 */
export function consumerRoutes(services: Services): DocumentedRoute[] {
  const { store } = services;
  const setStatus = (status: 'active' | 'suspended'): DocumentedRoute['handle'] => async ({ params, principal }) => {
    const c = await findConsumer(store, params.id!);
    const updated = (await store.updateConsumer(c.id, { status }, Date.now()))!;
    // Suspension takes effect at once: cached decisions for this consumer are dropped everywhere.
    await services.keys.changed();
    auditChange(services, principal, status === 'active' ? 'consumer.resume' : 'consumer.suspend', { consumer: c.name, consumerId: c.id });
    return consumerJson(updated);
  };
  return [
    route({
      method: 'POST',
      path: '/admin/v1/consumers',
      summary: 'Create a consumer',
      body: createInput,
      async handle({ req, principal }) {
        const input = await readJson(req, createInput);
        const now = Date.now();
        const c: Consumer = { id: randomUUID(), ...input, status: 'active', createdAt: now, updatedAt: now };
        await store.createConsumer(c);
        auditChange(services, principal, 'consumer.create', { consumer: c.name, consumerId: c.id });
        return new AdminResult(201, consumerJson(c), { location: `/admin/v1/consumers/${c.id}` });
      },
    }),
    route({
      method: 'GET',
      path: '/admin/v1/consumers',
      summary: 'List consumers by name (keyset pagination: limit, after)',
      async handle({ query }) {
        const page = readQuery(query, PAGE);
        return (await store.listConsumers(page)).map(consumerJson);
      },
    }),
    route({
      method: 'GET',
      path: '/admin/v1/consumers/{id}',
      summary: 'Get a consumer by id or name',
      async handle({ params }) {
        return consumerJson(await findConsumer(store, params.id!));
      },
    }),
    route({
      method: 'PATCH',
      path: '/admin/v1/consumers/{id}',
      summary: 'Change roles, scopes, tenant, metadata or status',
      body: patchInput,
      async handle({ req, params, principal }) {
        const c = await findConsumer(store, params.id!);
        const patch = await readJson(req, patchInput);
        const updated = (await store.updateConsumer(c.id, patch, Date.now()))!;
        await services.keys.changed();
        auditChange(services, principal, 'consumer.update', { consumer: c.name, consumerId: c.id, fields: Object.keys(patch) });
        return consumerJson(updated);
      },
    }),
    route({ method: 'POST', path: '/admin/v1/consumers/{id}/suspend', summary: 'Suspend a consumer: its keys stop working at once', handle: setStatus('suspended') }),
    route({ method: 'POST', path: '/admin/v1/consumers/{id}/resume', summary: 'Resume a suspended consumer', handle: setStatus('active') }),
  ];
}
