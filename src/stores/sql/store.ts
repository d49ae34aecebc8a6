/**
 * The store contracts implemented once over a {@link SqlExecutor}: the SQLite and PostgreSQL
 * backends differ only in their executor (connection, placeholders, error mapping), so both
 * behave identically by construction and the conformance suites check it.
 */
import type {
  AdminRole,
  AdminTokenRecord,
  ApiKeyPatch,
  ApiKeyRecord,
  Consumer,
  ConsumerPatch,
  ConsumerStatus,
  KeyEnvironment,
  Page,
  RoleRecord,
  SecretRecord,
  SigningKeyRecord,
  SqlExecutor,
  Store,
} from '../contracts.js';
import { storeRoleProblem } from '../../authz/config.js';
import { runMigrations } from '../migrate.js';
import { STORE_MIGRATIONS } from '../migrations.js';

type Row = Record<string, unknown>;

const json = (v: unknown): string => JSON.stringify(v);
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const list = (v: unknown): string[] | null => (v === null || v === undefined ? null : (JSON.parse(String(v)) as string[]));

function toConsumer(r: Row): Consumer {
  return {
    id: String(r.id),
    name: String(r.name),
    roles: list(r.roles) ?? [],
    scopes: list(r.scopes) ?? [],
    tenant: r.tenant === null ? null : String(r.tenant),
    metadata: JSON.parse(String(r.metadata)) as Record<string, unknown>,
    status: String(r.status) as ConsumerStatus,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toKey(r: Row): ApiKeyRecord {
  return {
    id: String(r.id),
    consumerId: String(r.consumer_id),
    prefix: String(r.prefix),
    hash: String(r.hash),
    environment: String(r.environment) as KeyEnvironment,
    scopes: list(r.scopes),
    roles: list(r.roles),
    revokedAt: num(r.revoked_at),
    expiresAt: num(r.expires_at),
    createdAt: Number(r.created_at),
    createdBy: String(r.created_by),
    lastUsedAt: num(r.last_used_at),
    rotatedFrom: r.rotated_from === null ? null : String(r.rotated_from),
    replacedBy: r.replaced_by === null ? null : String(r.replaced_by),
  };
}

function toAdminToken(r: Row): AdminTokenRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    role: String(r.role) as AdminRole,
    prefix: String(r.prefix),
    hash: String(r.hash),
    createdAt: Number(r.created_at),
    createdBy: String(r.created_by),
    revokedAt: num(r.revoked_at),
  };
}

function toSigningKey(r: Row): SigningKeyRecord {
  return {
    kid: String(r.kid),
    algorithm: String(r.algorithm),
    publicJwk: JSON.parse(String(r.public_jwk)) as Record<string, unknown>,
    createdAt: Number(r.created_at),
    activatesAt: Number(r.activates_at),
    retiresAt: num(r.retires_at),
    removeAt: num(r.remove_at),
  };
}

function toSecret(r: Row): SecretRecord {
  return { name: String(r.name), keyId: String(r.key_id), ciphertext: String(r.ciphertext), updatedAt: Number(r.updated_at) };
}

function toRole(r: Row): RoleRecord {
  return { name: String(r.name), permissions: list(r.permissions) ?? [], createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) };
}

type Column = readonly [column: string, encode: (v: unknown) => unknown];
const same = (v: unknown): unknown => v;

/** `SET` clause and values for the fields present in `patch`, in a fixed order. */
function assignments(patch: object, columns: Record<string, Column>): { set: string; values: unknown[] } {
  const parts: string[] = [];
  const values: unknown[] = [];
  const given = patch as Record<string, unknown>;
  for (const [field, [column, encode]] of Object.entries(columns)) {
    if (given[field] === undefined) continue;
    parts.push(`${column} = ?`);
    values.push(encode(given[field]));
  }
  return { set: parts.join(', '), values };
}

const CONSUMER_COLUMNS: Record<string, Column> = {
  roles: ['roles', json],
  scopes: ['scopes', json],
  tenant: ['tenant', same],
  metadata: ['metadata', json],
  status: ['status', same],
};
const SIGNING_KEY_COLUMNS: Record<string, Column> = {
  retiresAt: ['retires_at', same],
  removeAt: ['remove_at', same],
};
const KEY_COLUMNS: Record<string, Column> = {
  revokedAt: ['revoked_at', same],
  expiresAt: ['expires_at', same],
  replacedBy: ['replaced_by', same],
};

/**
 * A {@link Store} over any SQL executor.
 *
 * @example
 *   const store = new SqlStore('sqlite', executor, close);
 *   await store.migrate();
 */
export class SqlStore implements Store {
  constructor(
    readonly kind: 'sqlite' | 'postgres',
    readonly sql: SqlExecutor,
    private readonly onClose: () => Promise<void>,
    private readonly ping_: () => Promise<void>,
  ) {}

  migrate(): Promise<string[]> {
    return runMigrations(this.sql, STORE_MIGRATIONS);
  }

  ping(): Promise<void> {
    return this.ping_();
  }

  close(): Promise<void> {
    return this.onClose();
  }

  // consumers

  async createConsumer(c: Consumer): Promise<void> {
    await this.sql.execute(
      'INSERT INTO rampart_consumers (id, name, roles, scopes, tenant, metadata, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [c.id, c.name, json(c.roles), json(c.scopes), c.tenant, json(c.metadata), c.status, c.createdAt, c.updatedAt],
    );
  }

  async getConsumer(id: string): Promise<Consumer | undefined> {
    const [row] = await this.sql.query('SELECT * FROM rampart_consumers WHERE id = ?', [id]);
    return row === undefined ? undefined : toConsumer(row);
  }

  async getConsumerByName(name: string): Promise<Consumer | undefined> {
    const [row] = await this.sql.query('SELECT * FROM rampart_consumers WHERE name = ?', [name]);
    return row === undefined ? undefined : toConsumer(row);
  }

  async listConsumers(page: Page): Promise<Consumer[]> {
    const rows =
      page.after === undefined
        ? await this.sql.query('SELECT * FROM rampart_consumers ORDER BY name LIMIT ?', [page.limit])
        : await this.sql.query('SELECT * FROM rampart_consumers WHERE name > ? ORDER BY name LIMIT ?', [page.after, page.limit]);
    return rows.map(toConsumer);
  }

  async updateConsumer(id: string, patch: ConsumerPatch, now: number): Promise<Consumer | undefined> {
    const { set, values } = assignments(patch, CONSUMER_COLUMNS);
    const changed = await this.sql.execute(`UPDATE rampart_consumers SET ${set === '' ? '' : `${set}, `}updated_at = ? WHERE id = ?`, [...values, now, id]);
    return changed === 0 ? undefined : this.getConsumer(id);
  }

  // API keys

  async createKey(k: ApiKeyRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO rampart_api_keys (id, consumer_id, prefix, hash, environment, scopes, roles, revoked_at, expires_at, created_at, created_by, last_used_at, rotated_from, replaced_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        k.id, k.consumerId, k.prefix, k.hash, k.environment,
        k.scopes === null ? null : json(k.scopes), k.roles === null ? null : json(k.roles),
        k.revokedAt, k.expiresAt, k.createdAt, k.createdBy, k.lastUsedAt, k.rotatedFrom, k.replacedBy,
      ],
    );
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.sql.query('SELECT * FROM rampart_api_keys WHERE id = ?', [id]);
    return row === undefined ? undefined : toKey(row);
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.sql.query('SELECT * FROM rampart_api_keys WHERE hash = ?', [hash]);
    return row === undefined ? undefined : toKey(row);
  }

  async listKeys(filter: { consumerId?: string }, page: Page): Promise<ApiKeyRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.consumerId !== undefined) {
      where.push('consumer_id = ?');
      params.push(filter.consumerId);
    }
    if (page.after !== undefined) {
      where.push('id > ?');
      params.push(page.after);
    }
    const rows = await this.sql.query(
      `SELECT * FROM rampart_api_keys ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY id LIMIT ?`,
      [...params, page.limit],
    );
    return rows.map(toKey);
  }

  async updateKey(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined> {
    const { set, values } = assignments(patch, KEY_COLUMNS);
    if (set === '') return this.getKey(id);
    const changed = await this.sql.execute(`UPDATE rampart_api_keys SET ${set} WHERE id = ?`, [...values, id]);
    return changed === 0 ? undefined : this.getKey(id);
  }

  async recordKeyUse(uses: ReadonlyArray<{ readonly id: string; readonly at: number }>): Promise<void> {
    if (uses.length === 0) return;
    await this.sql.transaction(async (tx) => {
      for (const u of uses) {
        await tx.execute('UPDATE rampart_api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)', [u.at, u.id, u.at]);
      }
    });
  }

  async revocationVersion(): Promise<number> {
    const [row] = await this.sql.query<{ value: unknown }>("SELECT value FROM rampart_state WHERE name = 'revocation_version'");
    return Number(row?.value ?? 0);
  }

  async bumpRevocationVersion(): Promise<number> {
    await this.sql.execute("UPDATE rampart_state SET value = value + 1 WHERE name = 'revocation_version'");
    return this.revocationVersion();
  }

  // admin tokens

  async createAdminToken(t: AdminTokenRecord): Promise<void> {
    await this.sql.execute(
      'INSERT INTO rampart_admin_tokens (id, name, role, prefix, hash, created_at, created_by, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [t.id, t.name, t.role, t.prefix, t.hash, t.createdAt, t.createdBy, t.revokedAt],
    );
  }

  async findAdminTokenByHash(hash: string): Promise<AdminTokenRecord | undefined> {
    const [row] = await this.sql.query('SELECT * FROM rampart_admin_tokens WHERE hash = ?', [hash]);
    return row === undefined ? undefined : toAdminToken(row);
  }

  async getAdminToken(id: string): Promise<AdminTokenRecord | undefined> {
    const [row] = await this.sql.query('SELECT * FROM rampart_admin_tokens WHERE id = ?', [id]);
    return row === undefined ? undefined : toAdminToken(row);
  }

  async listAdminTokens(): Promise<AdminTokenRecord[]> {
    return (await this.sql.query('SELECT * FROM rampart_admin_tokens ORDER BY created_at, id')).map(toAdminToken);
  }

  async revokeAdminToken(id: string, at: number): Promise<AdminTokenRecord | undefined> {
    await this.sql.execute('UPDATE rampart_admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]);
    return this.getAdminToken(id);
  }

  async countActiveAdminTokens(): Promise<number> {
    const [row] = await this.sql.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM rampart_admin_tokens WHERE revoked_at IS NULL');
    return Number(row?.n ?? 0);
  }

  // secrets

  async putSecret(s: SecretRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO rampart_secrets (name, key_id, ciphertext, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
      [s.name, s.keyId, s.ciphertext, s.updatedAt],
    );
  }

  async getSecret(name: string): Promise<SecretRecord | undefined> {
    const [row] = await this.sql.query('SELECT * FROM rampart_secrets WHERE name = ?', [name]);
    return row === undefined ? undefined : toSecret(row);
  }

  async listSecrets(): Promise<SecretRecord[]> {
    return (await this.sql.query('SELECT * FROM rampart_secrets ORDER BY name')).map(toSecret);
  }

  async deleteSecret(name: string): Promise<boolean> {
    return (await this.sql.execute('DELETE FROM rampart_secrets WHERE name = ?', [name])) > 0;
  }

  // signing keys

  async createSigningKey(k: SigningKeyRecord): Promise<void> {
    await this.sql.execute(
      'INSERT INTO rampart_signing_keys (kid, algorithm, public_jwk, created_at, activates_at, retires_at, remove_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [k.kid, k.algorithm, json(k.publicJwk), k.createdAt, k.activatesAt, k.retiresAt, k.removeAt],
    );
  }

  async listSigningKeys(now: number): Promise<SigningKeyRecord[]> {
    const rows = await this.sql.query('SELECT * FROM rampart_signing_keys WHERE remove_at IS NULL OR remove_at > ? ORDER BY activates_at DESC, kid', [now]);
    return rows.map(toSigningKey);
  }

  async updateSigningKey(kid: string, patch: Partial<Pick<SigningKeyRecord, 'retiresAt' | 'removeAt'>>): Promise<SigningKeyRecord | undefined> {
    const { set, values } = assignments(patch, SIGNING_KEY_COLUMNS);
    if (set !== '') await this.sql.execute(`UPDATE rampart_signing_keys SET ${set} WHERE kid = ?`, [...values, kid]);
    const [row] = await this.sql.query('SELECT * FROM rampart_signing_keys WHERE kid = ?', [kid]);
    return row === undefined ? undefined : toSigningKey(row);
  }

  // roles

  async listRoles(): Promise<RoleRecord[]> {
    return (await this.sql.query('SELECT * FROM rampart_roles ORDER BY name')).map(toRole);
  }

  async getRole(name: string): Promise<RoleRecord | undefined> {
    const [row] = await this.sql.query('SELECT * FROM rampart_roles WHERE name = ?', [name]);
    return row === undefined ? undefined : toRole(row);
  }

  async putRole(role: RoleRecord): Promise<boolean> {
    // Checked here too, not only by the admin API: a malformed grant would silently never match.
    const problem = storeRoleProblem(role.name, role.permissions);
    if (problem !== undefined) throw new RangeError(problem);
    return this.sql.transaction(async (tx) => {
      const updated = await tx.execute('UPDATE rampart_roles SET permissions = ?, updated_at = ? WHERE name = ?', [json(role.permissions), role.updatedAt, role.name]);
      if (updated === 0) {
        await tx.execute('INSERT INTO rampart_roles (name, permissions, created_at, updated_at) VALUES (?, ?, ?, ?)', [role.name, json(role.permissions), role.createdAt, role.updatedAt]);
      }
      await tx.execute("UPDATE rampart_state SET value = value + 1 WHERE name = 'roles_version'");
      return updated === 0;
    });
  }

  async deleteRole(name: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const deleted = await tx.execute('DELETE FROM rampart_roles WHERE name = ?', [name]);
      if (deleted > 0) await tx.execute("UPDATE rampart_state SET value = value + 1 WHERE name = 'roles_version'");
      return deleted > 0;
    });
  }

  async rolesVersion(): Promise<number> {
    const [row] = await this.sql.query<{ value: unknown }>("SELECT value FROM rampart_state WHERE name = 'roles_version'");
    return Number(row?.value ?? 0);
  }
}
