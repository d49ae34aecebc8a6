import { z } from 'zod';
import { RampartError } from '../../core/errors.js';
import type { Services } from '../../core/services.js';
import { keyStatus } from '../../keys/key-service.js';
import type { ApiKeyRecord, Consumer } from '../../stores/contracts.js';
import { AdminResult } from '../server.js';
import { durationMs, readJson, readQuery, route, type DocumentedRoute } from '../input.js';
import { auditChange, findConsumer, GRANTS, PAGE } from './consumers.js';

const MAX_EXPIRY_MS = 5 * 365 * 86_400_000;
const MAX_GRACE_MS = 30 * 86_400_000;
const DEFAULT_GRACE_MS = 86_400_000;

const duration = (max: number) =>
  z.string().transform((text, ctx) => {
    const ms = durationMs(text);
    if (ms === undefined || ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be a duration like 10s, 15m, 24h or 30d, at most ${max / 86_400_000} days` });
      return z.NEVER;
    }
    return ms;
  });

const createInput = z
  .object({
    /** Consumer name or id. */
    consumer: z.string().min(1).max(200),
    /** Narrow the consumer's scopes/roles (must be a subset). */
    scopes: GRANTS.optional(),
    roles: GRANTS.optional(),
    /** Lifetime, e.g. `30d`. */
    expires: duration(MAX_EXPIRY_MS).optional(),
  })
  .strict();
const rotateInput = z.object({ /** Old key keeps working this long (`0s`: revoked now). */ grace: duration(MAX_GRACE_MS).optional() }).strict();
const listQuery = PAGE.extend({ consumer: z.string().min(1).max(200).optional() });

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** JSON shape of a key in the admin API (never the hash, never the key). */
export function keyJson(k: ApiKeyRecord, consumer: Consumer | undefined, now = Date.now()): Record<string, unknown> {
  return {
    id: k.id,
    prefix: k.prefix,
    consumer: consumer?.name ?? null,
    consumerId: k.consumerId,
    status: keyStatus(k, now),
    environment: k.environment,
    scopes: k.scopes,
    roles: k.roles,
    expiresAt: iso(k.expiresAt),
    createdAt: iso(k.createdAt),
    createdBy: k.createdBy,
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
    rotatedFrom: k.rotatedFrom,
    replacedBy: k.replacedBy,
  };
}

function notSubset(asked: readonly string[] | undefined, own: readonly string[]): string | undefined {
  return asked?.find((s) => !own.includes(s));
}

/**
 * `/admin/v1/keys`: create (the key is in the response once), list, get, rotate, revoke.
 *
 * @example
 *   curl -X POST -H "Authorization: Bearer $RAMPART_ADMIN_TOKEN" -d '{"consumer":"billing"}' http://127.0.0.1:9901/admin/v1/keys
 */
export function keyRoutes(services: Services): DocumentedRoute[] {
  const { store, keys } = services;
  const findKey = async (id: string): Promise<{ key: ApiKeyRecord; consumer: Consumer }> => {
    const key = await store.getKey(id);
    if (key === undefined) throw new RampartError('RAMPART_ADMIN_NOT_FOUND', `No key ${JSON.stringify(id.slice(0, 80))}.`);
    return { key, consumer: (await store.getConsumer(key.consumerId))! };
  };
  return [
    route({
      method: 'POST',
      path: '/admin/v1/keys',
      summary: 'Create an API key for a consumer; the response holds the key, shown this once',
      body: createInput,
      async handle({ req, principal }) {
        const input = await readJson(req, createInput);
        const consumer = await findConsumer(store, input.consumer);
        const extraScope = notSubset(input.scopes, consumer.scopes);
        const extraRole = notSubset(input.roles, consumer.roles);
        if (extraScope !== undefined || extraRole !== undefined) {
          throw new RampartError('RAMPART_ADMIN_INVALID_INPUT', `A key may only narrow its consumer's grants: ${JSON.stringify(extraScope ?? extraRole)} is not granted to ${consumer.name}.`);
        }
        const { record, key } = await keys.create({
          consumer,
          scopes: input.scopes ?? null,
          roles: input.roles ?? null,
          expiresAt: input.expires === undefined ? null : Date.now() + input.expires,
          createdBy: principal?.name ?? 'unknown',
        });
        auditChange(services, principal, 'key.create', { key: record.id, prefix: record.prefix, consumer: consumer.name });
        return new AdminResult(201, { ...keyJson(record, consumer), key }, { location: `/admin/v1/keys/${record.id}` });
      },
    }),
    route({
      method: 'GET',
      path: '/admin/v1/keys',
      summary: 'List keys (filter: consumer; keyset pagination: limit, after)',
      async handle({ query }) {
        const q = readQuery(query, listQuery);
        const consumer = q.consumer === undefined ? undefined : await findConsumer(store, q.consumer);
        const list = await store.listKeys(consumer === undefined ? {} : { consumerId: consumer.id }, q);
        const owners = new Map<string, Consumer | undefined>();
        if (consumer !== undefined) owners.set(consumer.id, consumer);
        for (const k of list) if (!owners.has(k.consumerId)) owners.set(k.consumerId, await store.getConsumer(k.consumerId));
        const now = Date.now();
        return list.map((k) => keyJson(k, owners.get(k.consumerId), now));
      },
    }),
    route({
      method: 'GET',
      path: '/admin/v1/keys/{id}',
      summary: 'Get a key (metadata only)',
      async handle({ params }) {
        const { key, consumer } = await findKey(params.id!);
        return keyJson(key, consumer);
      },
    }),
    route({
      method: 'POST',
      path: '/admin/v1/keys/{id}/rotate',
      summary: 'Issue a successor key; the old one works until the grace period ends (default 24h)',
      body: rotateInput,
      async handle({ req, params, principal }) {
        const input = await readJson(req, rotateInput);
        const { key, consumer } = await findKey(params.id!);
        if (keyStatus(key, Date.now()) !== 'active') throw new RampartError('RAMPART_ADMIN_CONFLICT', 'Only an active key can be rotated.');
        const graceMs = input.grace ?? DEFAULT_GRACE_MS;
        const rotated = await keys.rotate(key, consumer, graceMs, principal?.name ?? 'unknown');
        auditChange(services, principal, 'key.rotate', { key: key.id, prefix: key.prefix, successor: rotated.record.id, graceMs, consumer: consumer.name });
        return new AdminResult(201, { ...keyJson(rotated.record, consumer), key: rotated.key, previous: keyJson(rotated.old, consumer) });
      },
    }),
    route({
      method: 'POST',
      path: '/admin/v1/keys/{id}/revoke',
      summary: 'Revoke a key: refused at once here, within a second on every process',
      async handle({ params, principal }) {
        const { key, consumer } = await findKey(params.id!);
        const revoked = await keys.revoke(key);
        auditChange(services, principal, 'key.revoke', { key: key.id, prefix: key.prefix, consumer: consumer.name });
        return keyJson(revoked, consumer);
      },
    }),
  ];
}
