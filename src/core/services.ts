import type { Logger } from 'pino';
import type { EventSink } from './events.js';
import type { RequestContext } from './context.js';
import type { RampartConfig } from '../config/schema.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { TokenRevocations } from '../auth/revocation.js';
import type { OAuthServer } from '../oauth/server.js';
import type { CounterStore } from '../stores/counter-store.js';
import type { Store } from '../stores/contracts.js';
import type { KeyService } from '../keys/key-service.js';
import type { SecretVault } from '../keys/secret-box.js';
import type { StoreRoles } from '../authz/store-roles.js';

/**
 * Long-lived components shared by every stage of a running gateway: the logger, the event sink,
 * and (as later modules land) stores and counters. Built once at start, kept across config reloads.
 */
export interface Services {
  readonly logger: Logger;
  readonly emit: EventSink;
  /** After every request: access log, metrics, detectors (src/observe/). */
  readonly observeRequest?: (ctx: RequestContext, config: RampartConfig) => void;
  /** True while a detector response blocks this client address. */
  readonly isBlocked?: (ip: string) => boolean;
  /** Prometheus metrics (register your own on `metrics.registry`; report dependency health on `metrics.componentUp`). */
  readonly metrics?: GatewayMetrics;
  /** Revoked token ids (OAuth server, RFC 7009); the jwt stage refuses them. Absent: no revocation list. */
  tokenRevocations?: TokenRevocations;
  /** The built-in OAuth 2.0 server, when the config has an `oauth:` section. */
  oauth?: OAuthServer;
  /** Rate-limit, quota, concurrency and lockout counters (`counters:` in the config; shared by every process on Redis). */
  readonly counters: CounterStore;
  /** Consumers, keys, admin tokens, secrets (SQLite or PostgreSQL). */
  readonly store: Store;
  /** API key issue/rotate/revoke and cached verification. */
  readonly keys: KeyService;
  /** Encrypted named secrets (AES-256-GCM under the master key). */
  readonly secrets: SecretVault;
  /** Roles defined through the admin API (in-memory snapshot of the store). Absent: config roles only. */
  readonly roles?: StoreRoles;
}
