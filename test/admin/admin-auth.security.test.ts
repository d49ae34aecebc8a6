/**
 * Admin authentication attacks and their legitimate twins: brute force (blocked per address, the
 * window then reopens), weak or revoked RAMPART_ADMIN_TOKEN values (refused at start), a changed
 * RAMPART_ADMIN_TOKEN (the old value stops working), and tokens stored only as hashes.
 */
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdminAuthenticator, FailureLimiter, issueAdminToken, registerEnvToken } from '../../src/admin/admin-auth.js';
import { RampartError } from '../../src/core/errors.js';
import { CredentialHasher } from '../../src/keys/hash.js';
import type { Store } from '../../src/stores/contracts.js';
import { openStore } from '../../src/stores/open.js';

const hasher = new CredentialHasher('q'.repeat(40));
const req = (token: string | undefined, ip = '10.0.0.1'): IncomingMessage =>
  ({ headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, socket: { remoteAddress: ip } }) as unknown as IncomingMessage;

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as RampartError).code;
  }
  return 'accepted';
}

describe('admin authentication', () => {
  let store: Store;
  let now: number;
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
    now = 1_000_000;
  });
  afterEach(() => store.close());

  it('blocks an address after 10 failures for the rest of the window, then lets the real token in', async () => {
    const { token } = await issueAdminToken(store, hasher, { name: 'a', role: 'admin', createdBy: 't' });
    const auth = createAdminAuthenticator(store, hasher, { now: () => now });
    for (let i = 0; i < 10; i++) expect(await refusal(Promise.resolve(auth(req(`rk_admin_guess${i}`))))).toBe('RAMPART_ADMIN_UNAUTHORIZED');
    expect(await refusal(Promise.resolve(auth(req(token))))).toBe('RAMPART_ADMIN_RATE_LIMITED');
    expect(await refusal(Promise.resolve(auth(req(token, '10.0.0.2'))))).toBe('accepted');
    now += 60_000;
    expect(await refusal(Promise.resolve(auth(req(token))))).toBe('accepted');
  });

  it('stores admin tokens only as hashes', async () => {
    const { token, record } = await issueAdminToken(store, hasher, { name: 'a', role: 'auditor', createdBy: 't' });
    const rows = JSON.stringify(await store.sql.query('SELECT * FROM rampart_admin_tokens'));
    expect(rows).not.toContain(token);
    expect(rows).toContain(record.hash);
  });

  it('refuses a short RAMPART_ADMIN_TOKEN; accepts a long one; a new value revokes the old one', async () => {
    await expect(registerEnvToken(store, hasher, 'short-token')).rejects.toThrow(/at least 32/);
    const first = 'a'.repeat(40);
    const second = 'b'.repeat(40);
    expect(await registerEnvToken(store, hasher, first)).toBe(true);
    expect(await registerEnvToken(store, hasher, first)).toBe(true);
    expect(await store.countActiveAdminTokens()).toBe(1);
    await registerEnvToken(store, hasher, second);
    const auth = createAdminAuthenticator(store, hasher);
    expect(await refusal(Promise.resolve(auth(req(first))))).toBe('RAMPART_ADMIN_UNAUTHORIZED');
    expect(await refusal(Promise.resolve(auth(req(second))))).toBe('accepted');
    await expect(registerEnvToken(store, hasher, first)).rejects.toThrow(/revoked/);
    expect(await registerEnvToken(store, hasher, undefined)).toBe(false);
  });

  it('keeps the failure table bounded', () => {
    const limiter = new FailureLimiter({ max: 3, windowMs: 1000, maxKeys: 10, now: () => now });
    for (let i = 0; i < 100; i++) limiter.fail(`ip${i}`);
    expect((limiter as unknown as { entries: Map<string, unknown> }).entries.size).toBeLessThanOrEqual(10);
  });
});
