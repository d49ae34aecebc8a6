import type { Logger } from 'pino';
import type { RampartConfig } from '../config/schema.js';
import type { Store } from '../stores/contracts.js';
import { openStore } from '../stores/open.js';
import { CredentialHasher } from './hash.js';
import { KeyService } from './key-service.js';
import { RevocationWatcher } from './revocation.js';
import { SecretBox, SecretVault } from './secret-box.js';
import { resolveSecrets } from './secrets-config.js';

/** The long-lived key components of a gateway process (fields of `Services`). */
export interface KeyComponents {
  readonly store: Store;
  readonly hasher: CredentialHasher;
  readonly keys: KeyService;
  readonly secrets: SecretVault;
  close(): Promise<void>;
}

/**
 * Opens the store (migrating it), resolves pepper and master keys, and starts key verification
 * with revocation propagation.
 *
 * @example
 *   const components = await openKeyComponents(config, baseDir, logger);
 */
export async function openKeyComponents(config: RampartConfig, baseDir: string, logger: Logger): Promise<KeyComponents> {
  const resolved = resolveSecrets(config, baseDir, logger);
  const store = await openStore(config.store, { baseDir });
  const hasher = new CredentialHasher(resolved.pepper);
  const k = config.keys;
  const keys = new KeyService({
    store,
    hasher,
    environment: k.environment,
    cacheTtlMs: k.cacheTtlMs,
    negativeCacheTtlMs: k.negativeCacheTtlMs,
    cacheMaxEntries: k.cacheMaxEntries,
    lastUsedFlushMs: k.lastUsedFlushMs,
    logger,
  });
  const watcher = await RevocationWatcher.start({
    store,
    pollMs: k.revocationPollMs,
    redisUrl: config.counters === 'memory' ? undefined : config.counters,
    channel: k.revocationChannel,
    logger,
    onChange: () => keys.invalidate(),
  });
  keys.announce = () => watcher.announce();
  return {
    store,
    hasher,
    keys,
    secrets: new SecretVault(store, new SecretBox(resolved.masterKey, resolved.previousMasterKeys)),
    async close() {
      await watcher.close();
      await keys.close();
      await store.close();
    },
  };
}
