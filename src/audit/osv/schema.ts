/**
 * The OSV record format (https://ossf.github.io/osv-schema/), as far as auditing reads it.
 * Unknown fields are kept (the format grows); the fields we evaluate are checked strictly so a
 * malformed record is reported instead of silently matching nothing.
 */
import { z } from 'zod';

const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

const event = z
  .record(z.string(), z.string())
  .refine((e) => Object.keys(e).length === 1 && EVENT_KINDS.includes(Object.keys(e)[0] as EventKind), {
    message: `an event has exactly one of ${EVENT_KINDS.join(', ')}`,
  });

const range = z.looseObject({
  type: z.string(),
  repo: z.string().optional(),
  events: z.array(event).min(1),
});

const severity = z.looseObject({ type: z.string(), score: z.string() });

const affected = z.looseObject({
  package: z.looseObject({ ecosystem: z.string(), name: z.string(), purl: z.string().optional() }).optional(),
  ranges: z.array(range).optional(),
  versions: z.array(z.string()).optional(),
  severity: z.array(severity).optional(),
  ecosystem_specific: z.record(z.string(), z.unknown()).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});

export const osvRecordSchema = z.looseObject({
  schema_version: z.string().optional(),
  id: z.string().min(1),
  modified: z.string(),
  published: z.string().optional(),
  withdrawn: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  related: z.array(z.string()).optional(),
  summary: z.string().optional(),
  details: z.string().optional(),
  severity: z.array(severity).optional(),
  affected: z.array(affected).optional(),
  references: z.array(z.looseObject({ type: z.string(), url: z.string() })).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});

export type OsvRecord = z.infer<typeof osvRecordSchema>;
export type OsvAffected = z.infer<typeof affected>;
export type OsvRange = z.infer<typeof range>;
export type OsvSeverity = z.infer<typeof severity>;

/** The kind and version of one event (`{ fixed: "1.2.3" }` → `['fixed', '1.2.3']`). */
export function eventOf(e: Record<string, string>): [EventKind, string] {
  const [kind, version] = Object.entries(e)[0]!;
  return [kind as EventKind, version];
}
