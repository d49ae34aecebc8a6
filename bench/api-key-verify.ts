/**
 * Micro-benchmark: cost of cached API key verification through the api_key stage (checksum,
 * HMAC-SHA-256, cache lookup, expiry/status checks, identity). Run: `npx tsx bench/api-key-verify.ts`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { RequestContext } from '../src/core/context.js';
import { CredentialHasher } from '../src/keys/hash.js';
import { KeyService } from '../src/keys/key-service.js';
import { SecretBox, SecretVault, parseMasterKey } from '../src/keys/secret-box.js';
import { apiKeyStage } from '../src/stages/api-key/api-key.js';
import { openStore } from '../src/stores/open.js';
import { MemoryCounterStore } from '../src/stores/memory/counter-store.js';
import type { Services } from '../src/core/services.js';
import type { RampartConfig } from '../src/config/schema.js';

const logger = pino({ level: 'silent' });
const store = await openStore('sqlite::memory:');
const keys = new KeyService({
  store,
  hasher: new CredentialHasher('p'.repeat(40)),
  environment: 'live',
  cacheTtlMs: 3_600_000,
  negativeCacheTtlMs: 5000,
  cacheMaxEntries: 100_000,
  lastUsedFlushMs: 3_600_000,
  logger,
});
const now = Date.now();
await store.createConsumer({ id: 'c1', name: 'bench', roles: ['r'], scopes: ['s'], tenant: null, metadata: {}, status: 'active', createdAt: now, updatedAt: now });
const consumer = (await store.getConsumer('c1'))!;
const { key } = await keys.create({ consumer, scopes: null, roles: null, expiresAt: null, createdBy: 'bench' });
const services: Services = { logger, emit: () => undefined, counters: new MemoryCounterStore(), store, keys, secrets: new SecretVault(store, new SecretBox(parseMasterKey(`b:${Buffer.alloc(32).toString('base64')}`), [])) };
const stage = await apiKeyStage.create(apiKeyStage.options.parse({ type: 'api_key' }), { services, config: {} as RampartConfig, route: undefined, baseDir: '.' });
const req = { headers: { authorization: `Bearer ${key}` }, method: 'GET' } as unknown as IncomingMessage;
const makeCtx = (): RequestContext => new RequestContext({ id: 'r', req, res: {} as ServerResponse, secure: true, peerIp: '127.0.0.1', host: 'h', rawPath: '/pets', query: '', maxBodyBytes: 1 });

await keys.check(key); // warm the cache
const N = 200_000;
for (const label of ['warm-up', 'KeyService.check (cached)', 'api_key stage handle (cached)']) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    if (label.startsWith('KeyService')) keys.check(key);
    else {
      const ctx = makeCtx();
      stage.handle!(ctx);
      if (ctx.identity === undefined) throw new Error('not authenticated');
    }
  }
  const ns = Number(process.hrtime.bigint() - start) / N;
  if (label !== 'warm-up') console.log(`${label}: ${(ns / 1000).toFixed(2)} µs/op (${N} ops)`);
}
await keys.close();
await store.close();
