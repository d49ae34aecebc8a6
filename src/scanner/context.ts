/**
 * What every check receives: the spec, the scoped client, the identities, the objects discovered
 * per identity, and the sinks for findings and notes.
 */
import type { ApiSpec, Operation } from './openapi.js';
import { flatten, isObject, sample } from './openapi.js';
import type { Exchange, Identity, ScopedClient } from './http.js';
import type { Canary } from './canary.js';
import type { CategoryId, Evidence, Finding, RuleInfo, Severity } from './types.js';

/** An object the scanner created or listed as one identity. */
export interface KnownObject {
  /** Item path template, e.g. `/notes/{id}`. */
  template: string;
  /** Name of the path parameter that holds the id. */
  param: string;
  id: string;
  owner: string;
  /** Created by the scanner (so it may be changed or deleted), or only listed. */
  created: boolean;
  /** The object as the owner saw it. */
  body: Record<string, unknown>;
}

export interface ScanSettings {
  safe: boolean;
  /** Requests in a burst for rate-limit and business-flow checks. */
  burst: number;
  /** Delay injected by time-based payloads, milliseconds. */
  timingDelayMs: number;
  /** Failed logins sent to probe for lockout. */
  lockoutAttempts: number;
}

export interface ScanContext {
  spec: ApiSpec;
  client: ScopedClient;
  /** At least two; the first is the "owner", the others attack its objects. */
  identities: Identity[];
  /** Identities believed to be administrators (named `admin*`). */
  admins: Identity[];
  /** Everyone else. */
  users: Identity[];
  objects: KnownObject[];
  settings: ScanSettings;
  canary: Canary;
  report(finding: Finding): void;
  note(text: string): void;
}

/** Each check module exports one of these. */
export interface Check {
  readonly category: CategoryId;
  readonly rules: readonly RuleInfo[];
  run(ctx: ScanContext): Promise<void>;
}

/** Destructive methods, skipped under `--safe`. */
export const DESTRUCTIVE = new Set(['PUT', 'PATCH', 'DELETE']);

/** `GET /notes/{id}` */
export function label(op: Pick<Operation, 'method' | 'path'>): string {
  return `${op.method} ${op.path}`;
}

/** Path with every parameter filled: ids of objects `as` owns first, examples otherwise. */
export function fillPath(ctx: ScanContext, op: Operation, as: Identity | null, overrides: Record<string, string> = {}): string {
  const owned = ctx.objects.find((o) => o.template === op.path && o.owner === as?.name) ?? ctx.objects.find((o) => o.template === op.path);
  const path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (overrides[name] !== undefined) return encodeURIComponent(overrides[name]);
    if (owned !== undefined && owned.param === name) return encodeURIComponent(owned.id);
    const p = op.parameters.find((x) => x.in === 'path' && x.name === name);
    return encodeURIComponent(String(sample(p?.schema ?? { type: 'integer' }, name)));
  });
  return path + queryString(op, {});
}

/** Required query parameters with example values, plus `extra`. */
export function queryString(op: Operation, extra: Record<string, string>): string {
  const q = new URLSearchParams();
  for (const p of op.parameters) if (p.in === 'query' && p.required && extra[p.name] === undefined) q.set(p.name, String(sample(p.schema, p.name)));
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** A valid-looking JSON body for the operation (readOnly properties left out). */
export function sampleBody(op: Operation): Record<string, unknown> | undefined {
  if (op.body === undefined) return undefined;
  const v = sample(op.body);
  return isObject(v) ? v : {};
}

/** Sends `op` as `as` with its sample body (or `body`). */
export function callOperation(ctx: ScanContext, op: Operation, as: Identity | null, options: { path?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Exchange> {
  const body = options.body ?? sampleBody(op);
  return ctx.client.send({
    method: op.method,
    path: options.path ?? fillPath(ctx, op, as),
    as,
    headers: body === undefined ? options.headers : { 'content-type': 'application/json', ...options.headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function ok(ex: Exchange): boolean {
  return ex.status >= 200 && ex.status < 300;
}

/** Builds a finding with the check's defaults. */
export function finding(
  rule: RuleInfo,
  severity: Severity,
  location: string,
  description: string,
  remediation: string,
  evidence: Evidence[],
): Finding {
  return { ruleId: rule.id, category: rule.category, severity, title: rule.title, description, remediation, location, evidence };
}

/** Does the operation require credentials according to the spec? */
export function requiresAuth(op: Operation): boolean {
  return op.security.length > 0 && !op.security.some((req) => Object.keys(req).length === 0);
}

/** The id of an object in a response: `id`, `uuid`, `_id`, `*Id`. */
export function idOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  for (const key of ['id', 'uuid', '_id', 'ID', 'Id']) {
    const v = value[key];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  const key = Object.keys(value).find((k) => /Id$/.test(k) && (typeof value[k] === 'string' || typeof value[k] === 'number'));
  return key === undefined ? undefined : String(value[key]);
}

/** The array of items in a list response: top-level array or the first array property. */
export function itemsOf(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.filter(isObject);
  if (!isObject(value)) return [];
  for (const key of ['items', 'data', 'results', 'content', 'records']) if (Array.isArray(value[key])) return (value[key] as unknown[]).filter(isObject);
  const first = Object.values(value).find(Array.isArray);
  return first === undefined ? [] : (first as unknown[]).filter(isObject);
}

/** Item templates under a collection path: `/notes` → `/notes/{id}` (one more segment, a parameter). */
export function itemTemplates(spec: ApiSpec, collection: string): { template: string; param: string }[] {
  const out = new Map<string, string>();
  for (const op of spec.operations) {
    const m = /^\{([^}]+)\}$/.exec(op.path.slice(collection.length + 1));
    if (op.path.startsWith(`${collection}/`) && m !== null) out.set(op.path, m[1]!);
  }
  return [...out].map(([template, param]) => ({ template, param }));
}

/** Property names declared by a schema (after allOf/oneOf flattening). */
export function declaredProperties(schema: Operation['body']): Set<string> {
  return new Set(Object.keys(schema === undefined ? {} : (flatten(schema).properties ?? {})));
}
