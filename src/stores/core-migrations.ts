import type { Migration } from './migration.js';

/**
 * Tables of the keys module: consumers, API keys, admin tokens, encrypted secrets, and the
 * revocation version that processes poll. Timestamps are milliseconds since the epoch (BIGINT);
 * lists and maps are JSON text so both dialects share one row mapping.
 */
const consumersAndKeys = `
CREATE TABLE rampart_consumers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  roles TEXT NOT NULL,
  scopes TEXT NOT NULL,
  tenant TEXT,
  metadata TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE rampart_api_keys (
  id TEXT PRIMARY KEY,
  consumer_id TEXT NOT NULL REFERENCES rampart_consumers(id),
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  environment TEXT NOT NULL,
  scopes TEXT,
  roles TEXT,
  revoked_at BIGINT,
  expires_at BIGINT,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  last_used_at BIGINT,
  rotated_from TEXT,
  replaced_by TEXT
);
CREATE INDEX rampart_api_keys_consumer ON rampart_api_keys (consumer_id);
CREATE TABLE rampart_state (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO rampart_state (name, value) VALUES ('revocation_version', 0);
`;

const adminTokensAndSecrets = `
CREATE TABLE rampart_admin_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at BIGINT
);
CREATE TABLE rampart_secrets (
  name TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
`;

const signingKeys = `
CREATE TABLE rampart_signing_keys (
  kid TEXT PRIMARY KEY,
  algorithm TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  activates_at BIGINT NOT NULL,
  retires_at BIGINT,
  remove_at BIGINT
);
`;

/** Roles defined through the admin API (`authz/store-roles.ts`), and their change counter. */
const roles = `
CREATE TABLE rampart_roles (
  name TEXT PRIMARY KEY,
  permissions TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
INSERT INTO rampart_state (name, value) VALUES ('roles_version', 0);
`;

/** The keys module's migrations (same SQL on both dialects). */
export const KEYS_MIGRATIONS: readonly Migration[] = [
  { id: '0001_keys_consumers_and_keys', sqlite: consumersAndKeys, postgres: consumersAndKeys },
  { id: '0002_keys_admin_tokens_and_secrets', sqlite: adminTokensAndSecrets, postgres: adminTokensAndSecrets },
  { id: '0003_keys_signing_keys', sqlite: signingKeys, postgres: signingKeys },
  { id: '0004_keys_roles', sqlite: roles, postgres: roles },
];
