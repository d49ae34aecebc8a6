/**
 * Store contracts: small async interfaces that every backend (SQLite, PostgreSQL) implements. Each
 * has one conformance suite in `test/conformance/` that runs against every backend. Records are
 * plain data; ids and timestamps (milliseconds since the epoch) are chosen by the caller, so
 * backends stay simple and deterministic.
 *
 * @example
 *   const store = await openStore('sqlite:.rampart/rampart.db');
 *   await store.createConsumer({ id: newId(), name: 'billing', … });
 */

export type ConsumerStatus = 'active' | 'suspended';

/** An API client (application, team, partner) that owns credentials. */
export interface Consumer {
  readonly id: string;
  /** Unique, human-chosen. */
  readonly name: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly tenant: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** A suspended consumer's credentials stop working at once. */
  readonly status: ConsumerStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type ConsumerPatch = Partial<Pick<Consumer, 'roles' | 'scopes' | 'tenant' | 'metadata' | 'status'>>;

/** Keyset pagination: up to `limit` records ordered by `name`/`id`, strictly after `after`. */
export interface Page {
  readonly limit: number;
  readonly after?: string;
}

export interface ConsumerStore {
  /** Throws {@link StoreConflictError} when the name or id exists. */
  createConsumer(consumer: Consumer): Promise<void>;
  getConsumer(id: string): Promise<Consumer | undefined>;
  getConsumerByName(name: string): Promise<Consumer | undefined>;
  /** Ordered by name. `page.after` is a name. */
  listConsumers(page: Page): Promise<Consumer[]>;
  /** Returns the updated consumer, or undefined when the id is unknown. */
  updateConsumer(id: string, patch: ConsumerPatch, now: number): Promise<Consumer | undefined>;
}

export type KeyEnvironment = 'live' | 'test';

/** A stored API key: never the key itself, only its keyed hash and a short display prefix. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly consumerId: string;
  /** Non-secret display prefix, e.g. `rk_live_8fJ2abcd`. */
  readonly prefix: string;
  /** Hex HMAC-SHA-256 of the key under the pepper. */
  readonly hash: string;
  readonly environment: KeyEnvironment;
  /** Narrow the consumer's scopes/roles; null = the consumer's. */
  readonly scopes: readonly string[] | null;
  readonly roles: readonly string[] | null;
  readonly revokedAt: number | null;
  /** Hard expiry, or the end of a rotation's grace period. */
  readonly expiresAt: number | null;
  readonly createdAt: number;
  /** Admin principal that created it. */
  readonly createdBy: string;
  readonly lastUsedAt: number | null;
  /** The key this one replaced (rotation), and the key that replaced this one. */
  readonly rotatedFrom: string | null;
  readonly replacedBy: string | null;
}

export type ApiKeyPatch = Partial<Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt' | 'replacedBy'>>;

export interface KeyStore {
  /** Throws {@link StoreConflictError} when the id or hash exists. */
  createKey(key: ApiKeyRecord): Promise<void>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Ordered by id; `page.after` is an id. */
  listKeys(filter: { consumerId?: string }, page: Page): Promise<ApiKeyRecord[]>;
  updateKey(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined>;
  /** Batched last-used times; a time never moves backwards. */
  recordKeyUse(uses: ReadonlyArray<{ readonly id: string; readonly at: number }>): Promise<void>;
  /** A counter bumped on every revocation or suspension: processes poll it to drop their caches. */
  revocationVersion(): Promise<number>;
  bumpRevocationVersion(): Promise<number>;
}

export type AdminRole = 'admin' | 'operator' | 'auditor';

export interface AdminTokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: AdminRole;
  readonly prefix: string;
  readonly hash: string;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly revokedAt: number | null;
}

export interface AdminTokenStore {
  createAdminToken(token: AdminTokenRecord): Promise<void>;
  findAdminTokenByHash(hash: string): Promise<AdminTokenRecord | undefined>;
  getAdminToken(id: string): Promise<AdminTokenRecord | undefined>;
  listAdminTokens(): Promise<AdminTokenRecord[]>;
  revokeAdminToken(id: string, at: number): Promise<AdminTokenRecord | undefined>;
  /** Tokens not revoked. */
  countActiveAdminTokens(): Promise<number>;
}

/** A recoverable secret, encrypted by `keys/secret-box.ts` (AES-256-GCM under a master key id). */
export interface SecretRecord {
  /** Owner-chosen name, e.g. `upstream/billing/password`, `signing/2024-05`. */
  readonly name: string;
  /** Master key id that encrypted it. */
  readonly keyId: string;
  /** `base64(iv).base64(tag).base64(ciphertext)` */
  readonly ciphertext: string;
  readonly updatedAt: number;
}

export interface SecretStore {
  /** Inserts or replaces. */
  putSecret(secret: SecretRecord): Promise<void>;
  getSecret(name: string): Promise<SecretRecord | undefined>;
  listSecrets(): Promise<SecretRecord[]>;
  deleteSecret(name: string): Promise<boolean>;
}

/**
 * Public half of a token-signing key (OAuth access tokens, RFC 9068). The private key lives in the
 * {@link SecretStore} as secret `signing/<kid>` (encrypted, rotated with the master key).
 */
export interface SigningKeyRecord {
  readonly kid: string;
  /** JOSE algorithm, e.g. `ES256`, `EdDSA`. */
  readonly algorithm: string;
  /** Public JWK, published in the JWKS. */
  readonly publicJwk: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  /** Signs new tokens from this time. */
  readonly activatesAt: number;
  /** Stops signing at this time; stays in the JWKS until tokens it signed expired (`removeAt`). */
  readonly retiresAt: number | null;
  readonly removeAt: number | null;
}

export interface SigningKeyStore {
  /** Throws {@link StoreConflictError} when the kid exists. */
  createSigningKey(key: SigningKeyRecord): Promise<void>;
  /** Every key not removed at `now`, newest activation first (for the JWKS and for choosing the signer). */
  listSigningKeys(now: number): Promise<SigningKeyRecord[]>;
  updateSigningKey(kid: string, patch: Partial<Pick<SigningKeyRecord, 'retiresAt' | 'removeAt'>>): Promise<SigningKeyRecord | undefined>;
}

/** A role defined through the admin API: a name and the permissions it grants (config roles win on a clash). */
export interface RoleRecord {
  /** Same syntax as config role names: 1-64 of `a-z A-Z 0-9 _ . : -`. */
  readonly name: string;
  /** Grants: `pets:read`, `pets:*` or `*` (validated like config roles). */
  readonly permissions: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface RoleStore {
  /** Every store role, ordered by name. */
  listRoles(): Promise<RoleRecord[]>;
  getRole(name: string): Promise<RoleRecord | undefined>;
  /**
   * Inserts or replaces (keeping the first `createdAt`); returns true when it created the role.
   * Throws a `RangeError` when the name or a permission is malformed.
   */
  putRole(role: RoleRecord): Promise<boolean>;
  deleteRole(name: string): Promise<boolean>;
  /** A counter bumped by every put and delete: processes poll it to refresh their role snapshot. */
  rolesVersion(): Promise<number>;
}

/**
 * Raw access for modules that own tables of their own (audit log, OAuth clients): they contribute
 * migrations to `stores/migrations.ts` and query through this.
 */
export interface SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs a statement with `?` placeholders (rewritten to `$n` on PostgreSQL); returns rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement; returns the number of rows changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs several statements without parameters (migrations). */
  script(sql: string): Promise<void>;
  /** Runs `fn` in one transaction (serialised on SQLite). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

/** Everything a gateway stores: one object per backend. */
export interface Store extends ConsumerStore, KeyStore, AdminTokenStore, SecretStore, SigningKeyStore, RoleStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly sql: SqlExecutor;
  /** Applies pending migrations; returns the ids applied now. */
  migrate(): Promise<string[]>;
  /** Throws {@link StoreUnavailableError} when the backend does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A unique constraint was violated (duplicate name, id or hash). */
export class StoreConflictError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreConflictError';
  }
}

/** The backend did not answer or failed: callers fail closed (503). */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
