import type { Migration } from '../stores/migration.js';

/**
 * Tables of the OAuth server: registered clients, revoked token ids, and used `private_key_jwt`
 * assertion ids (replay protection); signing keys live in the shared `rampart_signing_keys`. Times are BIGINT
 * milliseconds; lists are JSON text.
 */
const tables = `
CREATE TABLE rampart_oauth_clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT,
  jwks TEXT,
  scopes TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE TABLE rampart_oauth_revocations (
  jti TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL
);
CREATE INDEX rampart_oauth_revocations_revoked ON rampart_oauth_revocations (revoked_at);
CREATE TABLE rampart_oauth_assertions (
  jti TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
`;

/** Migrations of the OAuth module (ids `02xx_oauth_*`). */
export const OAUTH_MIGRATIONS: readonly Migration[] = [{ id: '0200_oauth_tables', sqlite: tables, postgres: tables }];
