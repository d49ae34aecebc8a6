/**
 * What CLI commands use to talk to a running gateway's admin API: `--admin-url` (default
 * http://127.0.0.1:9901) and the token from `RAMPART_ADMIN_TOKEN`. Problem responses become one
 * clear line; 4xx are bad input (exit 2), except a refused admin token (401/403: a failed
 * verification, exit 1), and an unreachable gateway or 5xx is a failure (exit 1).
 */
import { request } from 'undici';
import { EXIT, UsageError, type CliIO } from './command.js';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9901';

/** The admin API refused the call: exit code 1 for server-side failures. */
export class AdminCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminCallError';
  }
}

export interface AdminClient {
  call<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

/**
 * @example
 *   const admin = adminClient(values['admin-url'], io);
 *   const consumers = await admin.call('GET', '/admin/v1/consumers');
 */
export function adminClient(url: string | undefined, io: CliIO): AdminClient {
  const base = (url ?? io.env.RAMPART_ADMIN_URL ?? DEFAULT_ADMIN_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(base)) throw new UsageError(`--admin-url must be http(s)://host:port, got ${JSON.stringify(base)}`);
  const token = io.env.RAMPART_ADMIN_TOKEN;
  return {
    async call<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
      if (token === undefined || token === '') throw new UsageError('set RAMPART_ADMIN_TOKEN to an admin token (see `rampart admin bootstrap`)');
      let res;
      try {
        res = await request(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          headersTimeout: 15_000,
          bodyTimeout: 15_000,
        });
      } catch (err) {
        throw new AdminCallError(`cannot reach the admin API at ${base}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const text = await res.body.text();
      let value: unknown;
      try {
        value = text === '' ? undefined : JSON.parse(text);
      } catch {
        throw new AdminCallError(`the admin API at ${base} answered ${res.statusCode} with a body that is not JSON`);
      }
      if (res.statusCode >= 400) {
        const p = (value ?? {}) as { code?: string; detail?: string; title?: string };
        const message = `${p.detail ?? p.title ?? `HTTP ${res.statusCode}`}${p.code === undefined ? '' : ` (${p.code})`}`;
        if (res.statusCode < 500 && res.statusCode !== 401 && res.statusCode !== 403) throw new UsageError(message);
        throw new AdminCallError(message);
      }
      return value as T;
    },
  };
}

/** Splits `a,b,c` into a list (undefined stays undefined). */
export function csv(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Prints rows as an aligned table. */
export function table(io: CliIO, rows: readonly Record<string, unknown>[], columns: readonly string[]): void {
  const cell = (v: unknown): string => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') || '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out(`${line(columns.map((c) => c.toUpperCase()))}\n`);
  for (const r of rows) io.out(`${line(columns.map((c) => cell(r[c])))}\n`);
}

/** Prints an admin API answer: pretty JSON with `--json`, otherwise one table row per record. */
export function printRecords(io: CliIO, value: unknown, json: boolean | undefined, columns: readonly string[]): number {
  if (json === true) io.out(`${JSON.stringify(value, null, 2)}\n`);
  else table(io, Array.isArray(value) ? (value as Record<string, unknown>[]) : [value as Record<string, unknown>], columns);
  return EXIT.ok;
}

/** The one positional argument a subcommand takes, percent-encoded for an admin API path. */
export function onePathSegment(positionals: readonly string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(usage);
  return encodeURIComponent(positionals[0]!);
}
