import { randomUUID } from 'node:crypto';
import type { ApiKeyRecord, Consumer } from '../../src/stores/contracts.js';

export function consumer(overrides: Partial<Consumer> = {}): Consumer {
  return {
    id: randomUUID(),
    name: `c-${randomUUID().slice(0, 8)}`,
    roles: ['reader'],
    scopes: ['pets:read', 'pets:write'],
    tenant: 'acme',
    metadata: { team: 'billing', tier: 2 },
    status: 'active',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function apiKey(consumerId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const id = randomUUID();
  return {
    id,
    consumerId,
    prefix: 'rk_live_abcdefgh',
    hash: randomUUID().replace(/-/g, '').repeat(2),
    environment: 'live',
    scopes: null,
    roles: null,
    revokedAt: null,
    expiresAt: null,
    createdAt: 1_700_000_000_000,
    createdBy: 'admin:test',
    lastUsedAt: null,
    rotatedFrom: null,
    replacedBy: null,
    ...overrides,
  };
}
