/** Test helpers for the keys module: admin calls against a running gateway's admin API. */
import { call, type SimpleResponse } from './gateway.js';

/** A fixed-length admin token for tests (registered through RAMPART_ADMIN_TOKEN). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghijklmnop';

export function adminCall(admin: string, method: string, path: string, body?: unknown, token = TEST_ADMIN_TOKEN): Promise<SimpleResponse> {
  return call(`${admin}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}
