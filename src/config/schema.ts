/**
 * The one schema for `rampart.yaml`. Parsed once, deep-frozen, and the source of the generated
 * JSON Schema (`rampart config schema`). Every default states its unit.
 */
import { z } from 'zod';
import { STAGE_DEFINITIONS, STAGES_BY_TYPE } from '../stages/registry.js';
import type { StageDefinition } from '../stages/definition.js';
import { logSchema, observeSchema } from '../observe/config.js';
import { authorizationSchema } from '../authz/config.js';
import { oauthConfigSchema } from '../oauth/config.js';

const port = z.number().int().min(0).max(65_535);
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const cidr = z.string().refine((v) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(v), 'must be an IP address or CIDR like 10.0.0.0/8');

export const limitsSchema = z
  .object({
    /** Maximum number of request header fields. */
    maxHeaderCount: z.number().int().min(8).max(1000).default(100),
    /** Maximum size of the request line plus headers, bytes. */
    maxHeaderBytes: z.number().int().min(1024).max(1_048_576).default(16_384),
    /** Maximum length of the request target (path + query), bytes. */
    maxUrlLength: z.number().int().min(64).max(65_536).default(8_192),
    /** Maximum request body, bytes (1 MiB). Routes may override. */
    maxBodyBytes: z.number().int().min(0).default(1_048_576),
    /** Time allowed to receive the request headers, milliseconds. */
    headersTimeoutMs: z.number().int().min(100).default(10_000),
    /** Time allowed to receive the whole request, milliseconds. */
    requestTimeoutMs: z.number().int().min(100).default(30_000),
    /** Idle keep-alive time for client connections, milliseconds. */
    keepAliveTimeoutMs: z.number().int().min(100).default(5_000),
    /** Open connections per client address (trusted proxies exempt); more are closed at once. */
    maxConnectionsPerIp: z.number().int().min(1).default(256),
    /** Open client connections per listener; more are closed at once. */
    maxConnections: z.number().int().min(1).default(20_000),
  })
  .strict();

const routeLimitsSchema = z
  .object({
    /** Per-route maximum request body, bytes. */
    maxBodyBytes: z.number().int().min(0).optional(),
  })
  .strict();

const upstreamSchema = z
  .object({
    /** `http(s)://host:port[/base]` or `builtin:pets` for the demo API. */
    url: z.string().refine((u) => u.startsWith('builtin:') || /^https?:\/\/[^/]+/.test(u), 'must be http(s)://host[:port][/path] or builtin:NAME'),
    /** Keep-alive connections to the upstream. */
    connections: z.number().int().min(1).max(10_000).default(128),
    /** Time to establish a connection, milliseconds. */
    connectTimeoutMs: z.number().int().min(1).default(5_000),
    /** Time to receive the response headers, milliseconds. */
    headersTimeoutMs: z.number().int().min(1).default(30_000),
    /** Maximum idle time between body chunks, milliseconds. */
    bodyTimeoutMs: z.number().int().min(1).default(30_000),
    /** Idle upstream keep-alive connections are closed after, milliseconds. */
    keepAliveTimeoutMs: z.number().int().min(1).default(4_000),
    tls: z
      .object({
        /** Verify the upstream certificate (default). Turning this off is logged as a warning. */
        verify: z.boolean().default(true),
        /** PEM file with the CA(s) that sign the upstream certificate. */
        ca: z.string().optional(),
        /** Server name for SNI and verification, when it differs from the URL host. */
        servername: z.string().optional(),
      })
      .strict()
      .default({ verify: true }),
  })
  .strict();

type OptionsOf<T extends readonly StageDefinition[]> = { -readonly [K in keyof T]: T[K] extends StageDefinition<infer S> ? S : never };
const stageSchema = z.discriminatedUnion(
  'type',
  STAGE_DEFINITIONS.map((d) => d.options) as unknown as OptionsOf<typeof STAGE_DEFINITIONS>,
);

const routeSchema = z
  .object({
    /** Stable id used in logs, metrics and events. */
    id: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'must be 1-64 characters of a-z A-Z 0-9 _ . -'),
    /** Host names (exact, or `*.example.com`); empty means any host. */
    hosts: z.array(z.string().min(1)).default([]),
    /** Path pattern: literal segments, `{name}` parameters, and a trailing `**` for any rest. */
    path: z.string().regex(/^\/[^?#\s]*$/, 'must start with / and have no query, fragment or spaces'),
    /** Methods served; others get 405. */
    methods: z.array(z.enum(HTTP_METHODS)).min(1).default([...HTTP_METHODS]),
    /** Name of an upstream in `upstreams`. */
    upstream: z.string(),
    /** Prefix removed from the path before forwarding (e.g. `/api`). */
    stripPrefix: z.string().regex(/^\/[^?#\s]*$/).optional(),
    limits: routeLimitsSchema.default({}),
    /** Stages this route uses; the pipeline orders them by phase. */
    stages: z.array(stageSchema).default([]),
  })
  .strict();

const tlsListenerSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('0.0.0.0'),
    /** HTTPS port. */
    port: port.default(8443),
    /** PEM certificate chain; reloaded when the file changes. Absent: a development certificate is generated. */
    cert: z.string().optional(),
    /** PEM private key; reloaded when the file changes. */
    key: z.string().optional(),
    /**
     * PEM file of the CA(s) that sign client certificates. When set, the listener requests (never
     * requires) a client certificate and verifies it against these CAs; `mtls` stages and
     * certificate-bound `jwt` stages need it. Read at start (restart to change it).
     */
    clientCa: z.string().optional(),
    /** Lowest TLS version accepted. */
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    /** Strict-Transport-Security max-age, seconds (1 year). */
    hstsMaxAgeSeconds: z.number().int().min(0).default(31_536_000),
  })
  .strict();

const httpListenerSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('0.0.0.0'),
    /** Plain HTTP port. */
    port: port.default(8080),
    /**
     * `redirect`: answer 308 to HTTPS (health aside). `serve`: run the gateway on plain HTTP, for
     * deployments behind a TLS-terminating load balancer.
     */
    mode: z.enum(['redirect', 'serve']).default('redirect'),
  })
  .strict();

const adminSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Loopback by default: the admin API never listens on a public address unless configured so. */
    host: z.string().default('127.0.0.1'),
    port: port.default(9901),
  })
  .strict();

const MASTER_KEY = /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=$/;
/** `${env:X:-}` of an unset variable gives '': treated as not configured. */
const optionalSecret = (schema: z.ZodString) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const secretsSchema = z
  .object({
    /** HMAC pepper for API keys and admin tokens, ≥ 32 characters. Unset: generated once into `.rampart/secrets.json` (development only; warned). */
    pepper: optionalSecret(z.string().min(32, 'must have at least 32 characters')),
    /** Master key for secrets at rest: `ID:BASE64` of 32 random bytes. Unset: generated like the pepper. */
    masterKey: optionalSecret(z.string().regex(MASTER_KEY, 'must be ID:BASE64 of 32 bytes (e.g. k2:$(openssl rand -base64 32))')),
    /** Older master keys still accepted for decryption while `rampart secrets rotate-master` runs. */
    previousMasterKeys: z.array(z.string().regex(MASTER_KEY, 'must be ID:BASE64 of 32 bytes')).default([]),
  })
  .strict();

const keysSchema = z
  .object({
    /** Keys this gateway accepts: `rk_live_…` or `rk_test_…`; a key of the other environment is refused. */
    environment: z.enum(['live', 'test']).default('live'),
    /** How long a verified key stays cached, milliseconds. Revocation and suspension bypass it. */
    cacheTtlMs: z.number().int().min(0).max(300_000).default(30_000),
    /** How long an unknown key stays cached as unknown, milliseconds. */
    negativeCacheTtlMs: z.number().int().min(0).max(300_000).default(5_000),
    /** Entries per cache (positive and negative), count. */
    cacheMaxEntries: z.number().int().min(16).max(10_000_000).default(100_000),
    /** Last-used times are written in one batch this often, milliseconds. */
    lastUsedFlushMs: z.number().int().min(100).default(10_000),
    /** Store poll for revocations from other processes, milliseconds (also with Redis, as a safety net). */
    revocationPollMs: z.number().int().min(50).max(60_000).default(500),
    /** Redis pub/sub channel for revocations when `counters` is a redis:// URL. */
    revocationChannel: z.string().min(1).default('rampart:revocations'),
  })
  .strict();

export const configSchema = z
  .object({
    listeners: z
      .object({
        https: tlsListenerSchema.default(tlsListenerSchema.parse({})),
        http: httpListenerSchema.default(httpListenerSchema.parse({})),
      })
      .strict()
      .default({ https: tlsListenerSchema.parse({}), http: httpListenerSchema.parse({}) }),
    admin: adminSchema.default(adminSchema.parse({})),
    /** `sqlite:PATH` (default) or `postgres://…`. */
    store: z.string().refine((s) => s.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(s), 'must be sqlite:PATH or postgres://…').default('sqlite:.rampart/rampart.db'),
    secrets: secretsSchema.default(secretsSchema.parse({})),
    /** API key verification: environment, caches, revocation propagation. */
    keys: keysSchema.default(keysSchema.parse({})),
    /** `memory` (default) or `redis://…`. */
    counters: z.string().refine((s) => s === 'memory' || /^rediss?:\/\//.test(s), 'must be memory or redis://…').default('memory'),
    /** Peers whose X-Forwarded-For / Forwarded / X-Request-Id headers are believed. */
    trustedProxies: z.array(cidr).default([]),
    limits: limitsSchema.default(limitsSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    /** Audit log, metrics, detectors and alert sinks (docs/observability.md). */
    observe: observeSchema.default(observeSchema.parse({})),
    upstreams: z.record(z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/), upstreamSchema).default({}),
    /** Roles, function-level rules and method override (docs/authorization.md). */
    authorization: authorizationSchema.default(authorizationSchema.parse({})),
    /** Stages applied to every route (before the route's own, within each phase). */
    stages: z.array(stageSchema).default([]),
    routes: z.array(routeSchema).default([]),
    /** Built-in OAuth 2.0 authorization server (docs/authentication.md). Absent: none. */
    oauth: oauthConfigSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const issue of crossReferenceIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    checkAuthenticationStages(cfg, ctx);
  });

/**
 * Checks between sections (route → upstream, unique ids, paired cert/key). Written against loosely
 * typed input so that it also runs when other parts of the file are invalid: every problem is
 * reported in one pass.
 */
export function crossReferenceIssues(input: unknown): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const cfg = (input ?? {}) as { upstreams?: unknown; routes?: unknown; listeners?: { https?: { cert?: unknown; key?: unknown; enabled?: unknown }; http?: { mode?: unknown; enabled?: unknown } } };
  const upstreams = cfg.upstreams !== null && typeof cfg.upstreams === 'object' ? cfg.upstreams : {};
  const ids = new Set<unknown>();
  if (Array.isArray(cfg.routes)) {
    cfg.routes.forEach((route: { upstream?: unknown; id?: unknown } | null, i) => {
      if (route === null || typeof route !== 'object') return;
      if (typeof route.upstream === 'string' && !Object.hasOwn(upstreams, route.upstream)) {
        issues.push({ path: ['routes', i, 'upstream'], message: `unknown upstream ${JSON.stringify(route.upstream)}` });
      }
      if (ids.has(route.id)) issues.push({ path: ['routes', i, 'id'], message: `duplicate route id ${JSON.stringify(route.id)}` });
      ids.add(route.id);
    });
  }
  const https = cfg.listeners?.https ?? {};
  if ((https.cert === undefined) !== (https.key === undefined)) {
    issues.push({ path: ['listeners', 'https', https.cert === undefined ? 'cert' : 'key'], message: 'cert and key must be given together' });
  }
  const http = cfg.listeners?.http ?? {};
  if (https.enabled === false && http.enabled !== false && (http.mode ?? 'redirect') === 'redirect') {
    issues.push({ path: ['listeners', 'http', 'mode'], message: 'redirect needs the https listener; use mode: serve' });
  }
  return issues;
}

/** `anonymous` must be a route's last authentication stage; client certificates need `listeners.https.clientCa`. */
type StageRef = { readonly type: string; readonly certificateBound?: boolean };
function checkAuthenticationStages(
  cfg: { stages: readonly StageRef[]; routes: readonly { stages: readonly StageRef[] }[]; listeners: { https: { clientCa?: string | undefined } } },
  ctx: z.core.$RefinementCtx,
): void {
  const usesCertificates = (s: StageRef): boolean => s.type === 'mtls' || s.certificateBound === true;
  cfg.routes.forEach((route, i) => {
    const auth = [...cfg.stages, ...route.stages].filter((s) => STAGES_BY_TYPE.get(s.type)?.phase === 'authenticate');
    const anon = auth.findIndex((s) => s.type === 'anonymous');
    if (anon !== -1 && anon !== auth.length - 1) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'stages'], message: 'anonymous must be the last authentication stage (after the global ones too)' });
    }
    if (cfg.listeners.https.clientCa === undefined && auth.some(usesCertificates)) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'stages'], message: 'client certificates need listeners.https.clientCa' });
    }
  });
}

export type RampartConfig = z.infer<typeof configSchema>;
export type RouteConfig = RampartConfig['routes'][number];
export type UpstreamConfig = RampartConfig['upstreams'][string];
export type StageConfig = RouteConfig['stages'][number];
export type LimitsConfig = RampartConfig['limits'];
export { HTTP_METHODS };
