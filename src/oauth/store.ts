/**
 * Storage contract of the OAuth server (clients, revocations, used assertion ids) and its SQL
 * implementation over the shared store's `SqlExecutor` (SQLite and PostgreSQL alike). Signing keys
 * use the shared `SigningKeyStore` and `SecretVault`. Ids and times (milliseconds) come from the caller.
 */
import type { JWK } from 'jose';
import type { SqlExecutor } from '../stores/contracts.js';

export interface OAuthClient {
  /** `client_id`. */
  readonly id: string;
  readonly name: string;
  /** Hex SHA-256 of the client secret (secrets are 256-bit random: a fast hash suffices); null for key-only clients. */
  readonly secretHash: string | null;
  /** Public keys for `private_key_jwt`; null when the client uses a secret. */
  readonly jwks: readonly JWK[] | null;
  /** Scopes the client may request. */
  readonly scopes: readonly string[];
  readonly status: 'active' | 'revoked';
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface RevocationRecord {
  readonly jti: string;
  readonly clientId: string;
  /** The token's own expiry: after it, the record is useless and purged. */
  readonly expiresAt: number;
  readonly revokedAt: number;
}

export interface OAuthStore {
  createClient(client: OAuthClient): Promise<void>;
  getClient(id: string): Promise<OAuthClient | undefined>;
  listClients(): Promise<OAuthClient[]>;
  /** Returns false when the id is unknown or already revoked. */
  revokeClient(id: string, at: number): Promise<boolean>;
  /** Idempotent. */
  revokeToken(record: RevocationRecord): Promise<void>;
  /** Revocations recorded at or after `since` and not expired at `now`. */
  listRevocations(since: number, now: number): Promise<RevocationRecord[]>;
  /** Records a client assertion id; false when it was seen before (replay). */
  useAssertion(jti: string, expiresAt: number): Promise<boolean>;
  /** Removes expired revocations and assertion ids. */
  purgeExpired(now: number): Promise<void>;
}

type Row = Record<string, unknown>;
// PostgreSQL returns BIGINT as text.
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toClient(r: Row): OAuthClient {
  return {
    id: String(r.id),
    name: String(r.name),
    secretHash: r.secret_hash === null ? null : String(r.secret_hash),
    jwks: r.jwks === null ? null : (JSON.parse(String(r.jwks)) as JWK[]),
    scopes: JSON.parse(String(r.scopes)) as string[],
    status: r.status === 'revoked' ? 'revoked' : 'active',
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}

/**
 * @example
 *   const store = new SqlOAuthStore(sql);
 *   await store.createClient({ id: 'c1', name: 'billing', secretHash, jwks: null, scopes: ['pets:read'], status: 'active', createdAt: Date.now(), revokedAt: null });
 */
export class SqlOAuthStore implements OAuthStore {
  constructor(private readonly sql: SqlExecutor) {}

  async createClient(c: OAuthClient): Promise<void> {
    await this.sql.execute(
      'INSERT INTO rampart_oauth_clients (id, name, secret_hash, jwks, scopes, status, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [c.id, c.name, c.secretHash, c.jwks === null ? null : JSON.stringify(c.jwks), JSON.stringify(c.scopes), c.status, c.createdAt, c.revokedAt],
    );
  }

  async getClient(id: string): Promise<OAuthClient | undefined> {
    const rows = await this.sql.query<Row>('SELECT * FROM rampart_oauth_clients WHERE id = ?', [id]);
    return rows[0] === undefined ? undefined : toClient(rows[0]);
  }

  async listClients(): Promise<OAuthClient[]> {
    return (await this.sql.query<Row>('SELECT * FROM rampart_oauth_clients ORDER BY created_at, id')).map(toClient);
  }

  async revokeClient(id: string, at: number): Promise<boolean> {
    return (await this.sql.execute("UPDATE rampart_oauth_clients SET status = 'revoked', revoked_at = ? WHERE id = ? AND status = 'active'", [at, id])) > 0;
  }

  async revokeToken(r: RevocationRecord): Promise<void> {
    await this.sql.execute('INSERT INTO rampart_oauth_revocations (jti, client_id, expires_at, revoked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      r.jti,
      r.clientId,
      r.expiresAt,
      r.revokedAt,
    ]);
  }

  async listRevocations(since: number, now: number): Promise<RevocationRecord[]> {
    const rows = await this.sql.query<Row>('SELECT * FROM rampart_oauth_revocations WHERE revoked_at >= ? AND expires_at > ? ORDER BY revoked_at', [since, now]);
    return rows.map((r) => ({ jti: String(r.jti), clientId: String(r.client_id), expiresAt: num(r.expires_at), revokedAt: num(r.revoked_at) }));
  }

  async useAssertion(jti: string, expiresAt: number): Promise<boolean> {
    return (await this.sql.execute('INSERT INTO rampart_oauth_assertions (jti, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING', [jti, expiresAt])) > 0;
  }

  async purgeExpired(now: number): Promise<void> {
    await this.sql.execute('DELETE FROM rampart_oauth_revocations WHERE expires_at <= ?', [now]);
    await this.sql.execute('DELETE FROM rampart_oauth_assertions WHERE expires_at <= ?', [now]);
  }
}
