/**
 * Config sections of the observe module: `log` (access log) and `observe` (audit log, metrics,
 * detectors, alert sinks). Referenced from src/config/schema.ts.
 */
import { z } from 'zod';
import { SEVERITIES } from '../stores/audit.js';

const severity = z.enum(SEVERITIES);
const fieldName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -');

export const logSchema = z
  .object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** One JSON line per request. */
    access: z.boolean().default(true),
    /** Query parameters whose values may appear in the access log; others show their name only. */
    queryValues: z.array(fieldName).default([]),
    /** Extra field names (query parameters, event data keys) always redacted, on top of the built-in list. */
    redact: z.array(fieldName).default([]),
  })
  .strict();

const detector = <T extends z.ZodRawShape>(shape: T) =>
  z
    .object({
      enabled: z.boolean().default(true),
      /** Window the threshold is counted in, seconds. */
      windowSeconds: z.number().int().min(1).max(86_400),
      /** Severity of the detection event (alert sinks filter on it). */
      severity: severity.default('high'),
      /** Block the offending client address at the gateway for this long, seconds (0: do not block). */
      blockSeconds: z.number().int().min(0).max(604_800).default(0),
      ...shape,
    })
    .strict();

const detectorsSchema = z
  .object({
    /** Most subjects (addresses, consumers, keys) each detector tracks at once; the least recent are forgotten. */
    maxTracked: z.number().int().min(100).max(1_000_000).default(10_000),
    /** Many failed authentications (a credential was presented and refused) from one address. */
    bruteForce: detector({ threshold: z.number().int().min(2).default(10) }).default({ windowSeconds: 60, threshold: 10, enabled: true, severity: 'high', blockSeconds: 0 }),
    /** Many distinct principals (consumers, client ids, key prefixes) tried from one address. */
    credentialStuffing: detector({ distinct: z.number().int().min(2).default(5) }).default({ windowSeconds: 300, distinct: 5, enabled: true, severity: 'high', blockSeconds: 0 }),
    /** One consumer (or anonymous address) touching many distinct object ids, or producing many 403/404. */
    enumeration: detector({
      distinctObjects: z.number().int().min(2).default(100),
      deniedOrMissing: z.number().int().min(2).default(50),
    }).default({ windowSeconds: 60, distinctObjects: 100, deniedOrMissing: 50, enabled: true, severity: 'medium', blockSeconds: 0 }),
    /** Repeated injection blocks from one address. */
    injection: detector({ threshold: z.number().int().min(2).default(5) }).default({ windowSeconds: 300, threshold: 5, enabled: true, severity: 'high', blockSeconds: 0 }),
    /** One API key or token used from many client addresses. */
    leakedKey: detector({ distinctIps: z.number().int().min(2).default(20) }).default({ windowSeconds: 3600, distinctIps: 20, enabled: true, severity: 'high', blockSeconds: 0 }),
    /** Request rate far above the moving baseline (exponentially weighted, per bucket). */
    trafficAnomaly: z
      .object({
        enabled: z.boolean().default(true),
        /** Bucket length, seconds. */
        bucketSeconds: z.number().int().min(1).max(3600).default(10),
        /** A bucket above `factor` × baseline is anomalous. */
        factor: z.number().min(1.5).default(4),
        /** …and only when it has at least this many requests. */
        minRequests: z.number().int().min(1).default(200),
        /** Buckets to learn before judging. */
        warmupBuckets: z.number().int().min(1).default(6),
        severity: severity.default('medium'),
      })
      .strict()
      .default({ enabled: true, bucketSeconds: 10, factor: 4, minRequests: 200, warmupBuckets: 6, severity: 'medium' }),
  })
  .strict();

const sinkSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
    /** `webhook`: generic JSON signed with HMAC-SHA-256; `slack`: Slack incoming-webhook text. */
    type: z.enum(['webhook', 'slack']),
    url: z.string().refine((u) => /^https?:\/\/[^/\s]+/.test(u), 'must be an http(s) URL'),
    /** HMAC-SHA-256 key for the `X-Rampart-Signature` header (webhook sinks; use `${env:NAME}`). */
    secret: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Lowest severity sent to this sink. */
    minSeverity: severity.default('high'),
    /** Alerts with the same key (detector, subject) within this window are sent once, seconds. */
    dedupSeconds: z.number().int().min(0).max(86_400).default(300),
    /** Most alerts sent per minute; the rest are dead-lettered as throttled (never silently dropped). */
    maxPerMinute: z.number().int().min(1).max(10_000).default(30),
    /** Delivery attempts after the first failure. */
    retries: z.number().int().min(0).max(20).default(5),
    /** First retry delay, milliseconds (doubles each attempt). */
    backoffMs: z.number().int().min(1).max(600_000).default(1000),
    /** Time allowed per delivery attempt, milliseconds. */
    timeoutMs: z.number().int().min(100).max(60_000).default(5000),
  })
  .strict()
  .refine((s) => s.type !== 'webhook' || s.secret !== undefined, { message: 'webhook sinks need a secret (for the HMAC signature)', path: ['secret'] });

export const observeSchema = z
  .object({
    audit: z
      .object({
        /** Persist security events in the store's hash-chained audit log. */
        enabled: z.boolean().default(true),
        /** Chain key (HMAC-SHA-256, at least 32 characters; use `${env:RAMPART_AUDIT_KEY}`). Without it: SHA-256. */
        key: z.string().min(32, 'must be at least 32 characters').optional(),
        /** Most events written per transaction. */
        batchSize: z.number().int().min(1).max(5000).default(500),
        /** Delay before a batch is written, milliseconds (events arriving meanwhile join it). */
        flushDelayMs: z.number().int().min(0).max(60_000).default(50),
        /** Most events held in memory while the store is slow or down; more are dropped and counted. */
        maxQueue: z.number().int().min(100).max(1_000_000).default(50_000),
        /** Delay before retrying a failed write, milliseconds. */
        retryMs: z.number().int().min(10).max(600_000).default(1000),
      })
      .strict()
      .default({ enabled: true, batchSize: 500, flushDelayMs: 50, maxQueue: 50_000, retryMs: 1000 }),
    metrics: z
      .object({
        /** Serve `/metrics` on the admin listener. */
        enabled: z.boolean().default(true),
        /** Also export Node.js process metrics (CPU, memory, event loop lag). */
        processMetrics: z.boolean().default(true),
      })
      .strict()
      .default({ enabled: true, processMetrics: true }),
    detectors: detectorsSchema.default(detectorsSchema.parse({})),
    alerts: z
      .object({ sinks: z.array(sinkSchema).default([]) })
      .strict()
      .default({ sinks: [] }),
  })
  .strict();

export type LogConfig = z.infer<typeof logSchema>;
export type ObserveConfig = z.infer<typeof observeSchema>;
export type DetectorsConfig = ObserveConfig['detectors'];
export type SinkConfig = ObserveConfig['alerts']['sinks'][number];
