/**
 * Admin API authentication: bearer tokens stored as keyed hashes, each with a role (admin,
 * operator, auditor). There is no default credential: the first token comes from
 * `rampart admin bootstrap` or from `RAMPART_ADMIN_TOKEN` at start. Failed logins are limited per
 * client address; a blocked address is refused before its token is even checked.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RampartError } from '../core/errors.js';
import { ConfigError } from '../config/load.js';
import { CredentialHasher } from '../keys/hash.js';
import { credentialPrefix, generateCredential } from '../keys/format.js';
import { StoreUnavailableError, type AdminRole, type AdminTokenRecord, type AdminTokenStore } from '../stores/contracts.js';
import type { AdminAuthenticator, AdminPrincipal } from './server.js';

/** Shortest token accepted from `RAMPART_ADMIN_TOKEN` (generated tokens are 46 characters). */
export const MIN_ENV_TOKEN_LENGTH = 32;
const ENV_TOKEN_NAME = 'env:RAMPART_ADMIN_TOKEN';
const CHALLENGE = 'Bearer realm="rampart-admin"';

/**
 * Counts failures per key in a fixed window; blocks a key that reached the limit until its window ends.
 *
 * @example
 *   const limiter = new FailureLimiter({ max: 10, windowMs: 60_000 });
 */
export class FailureLimiter {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();
  private readonly now: () => number;

  constructor(private readonly options: { max: number; windowMs: number; maxKeys?: number; now?: () => number }) {
    this.now = options.now ?? Date.now;
  }

  /** Seconds until `key` may try again, or 0 when it is not blocked. */
  blockedFor(key: string): number {
    const e = this.entries.get(key);
    const now = this.now();
    if (e === undefined || e.resetAt <= now) return 0;
    return e.count >= this.options.max ? Math.ceil((e.resetAt - now) / 1000) : 0;
  }

  fail(key: string): void {
    const now = this.now();
    const e = this.entries.get(key);
    if (e === undefined || e.resetAt <= now) {
      if (this.entries.size >= (this.options.maxKeys ?? 100_000)) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { count: 1, resetAt: now + this.options.windowMs });
    } else e.count++;
  }
}

/** Creates an admin token; the plaintext is returned once. */
export async function issueAdminToken(store: AdminTokenStore, hasher: CredentialHasher, input: { name: string; role: AdminRole; createdBy: string; now?: number }): Promise<{ record: AdminTokenRecord; token: string }> {
  const token = generateCredential('rk_admin');
  const record: AdminTokenRecord = {
    id: randomUUID(),
    name: input.name,
    role: input.role,
    prefix: credentialPrefix(token),
    hash: hasher.hash(token),
    createdAt: input.now ?? Date.now(),
    createdBy: input.createdBy,
    revokedAt: null,
  };
  await store.createAdminToken(record);
  return { record, token };
}

/**
 * Registers `RAMPART_ADMIN_TOKEN` as an admin token, revoking a previous value of the variable.
 * Returns false when the variable is unset.
 */
export async function registerEnvToken(store: AdminTokenStore, hasher: CredentialHasher, value: string | undefined, now = Date.now()): Promise<boolean> {
  if (value === undefined || value === '') return false;
  if (value.length < MIN_ENV_TOKEN_LENGTH) {
    throw new ConfigError([`RAMPART_ADMIN_TOKEN must have at least ${MIN_ENV_TOKEN_LENGTH} characters (e.g. the output of \`openssl rand -hex 32\`)`], 'environment');
  }
  const hash = hasher.hash(value);
  const existing = await store.findAdminTokenByHash(hash);
  for (const t of await store.listAdminTokens()) {
    if (t.name === ENV_TOKEN_NAME && t.revokedAt === null && t.hash !== hash) await store.revokeAdminToken(t.id, now);
  }
  if (existing !== undefined && existing.revokedAt === null) return true;
  if (existing !== undefined) throw new ConfigError(['RAMPART_ADMIN_TOKEN holds a token that was revoked; choose a new value'], 'environment');
  await store.createAdminToken({ id: randomUUID(), name: ENV_TOKEN_NAME, role: 'admin', prefix: `env_${hash.slice(0, 8)}`, hash, createdAt: now, createdBy: 'environment', revokedAt: null });
  return true;
}

/**
 * The authenticator given to `startAdminServer`.
 *
 * @example
 *   startAdminServer(opts, services, { ready, routes, authenticate: createAdminAuthenticator(store, hasher) });
 */
export function createAdminAuthenticator(
  store: AdminTokenStore,
  hasher: CredentialHasher,
  options: { maxFailures?: number; windowMs?: number; now?: () => number; onFailure?: (ip: string, reason: string) => void } = {},
): AdminAuthenticator {
  const limiter = new FailureLimiter({ max: options.maxFailures ?? 10, windowMs: options.windowMs ?? 60_000, ...(options.now ? { now: options.now } : {}) });
  const unauthorized = (detail: string, reason: string): RampartError =>
    new RampartError('RAMPART_ADMIN_UNAUTHORIZED', detail, { headers: { 'www-authenticate': CHALLENGE }, reason });

  return async (req: IncomingMessage): Promise<AdminPrincipal> => {
    const ip = req.socket.remoteAddress ?? 'unknown';
    const wait = limiter.blockedFor(ip);
    if (wait > 0) {
      throw new RampartError('RAMPART_ADMIN_RATE_LIMITED', 'Too many failed admin logins from this address; try again later.', { headers: { 'retry-after': String(wait) } });
    }
    const auth = req.headers.authorization;
    if (auth === undefined || !/^bearer /i.test(auth)) throw unauthorized('An admin token is required (Authorization: Bearer …).', 'no admin token');
    const token = auth.slice(7).trim();
    let record: AdminTokenRecord | undefined;
    const hash = hasher.hash(token);
    try {
      record = token.length > 256 ? undefined : await store.findAdminTokenByHash(hash);
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        throw new RampartError('RAMPART_STORE_UNAVAILABLE', 'The store is not answering; try again shortly.', { headers: { 'retry-after': '1' }, reason: err.message });
      }
      throw err;
    }
    if (record === undefined || record.revokedAt !== null || !CredentialHasher.same(record.hash, hash)) {
      limiter.fail(ip);
      const reason = record === undefined ? 'unknown admin token' : 'revoked admin token';
      options.onFailure?.(ip, reason);
      throw unauthorized('The admin token is not valid.', reason);
    }
    return { id: record.id, name: record.name, role: record.role };
  };
}
