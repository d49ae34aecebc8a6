/**
 * Severity of an advisory: the CVSS base score of its newest vector (v4 over v3.x over v2),
 * computed with ae-cvss-calculator, or else the database's own rating (GHSA's
 * `database_specific.severity`).
 */
import cvss from 'ae-cvss-calculator';
import type { OsvRecord, OsvSeverity } from './osv/schema.js';

/** Ordered from least to most severe; `unknown` means the advisory gives no severity. */
export const SEVERITIES = ['unknown', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface SeverityInfo {
  severity: Severity;
  /** CVSS base score (0–10), when a vector was given. */
  score?: number;
  vector?: string;
}

/**
 * CVSS v3/v4 qualitative rating of a base score.
 *
 * @example
 * ratingOf(7.5); // 'high'
 */
export function ratingOf(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return score > 0 ? 'low' : 'unknown';
}

/**
 * Reads a user-given or database severity word (`moderate` is GHSA's word for medium).
 *
 * @example
 * parseSeverity('MODERATE'); // 'medium'
 */
export function parseSeverity(word: string): Severity | undefined {
  const w = word.trim().toLowerCase();
  if (w === 'moderate') return 'medium';
  return (SEVERITIES as readonly string[]).includes(w) ? (w as Severity) : undefined;
}

function scoreOf(s: OsvSeverity): number | undefined {
  try {
    const vector =
      s.type === 'CVSS_V4' ? new cvss.Cvss4P0(s.score) : s.type === 'CVSS_V3' ? (s.score.startsWith('CVSS:3.0/') ? new cvss.Cvss3P0(s.score) : new cvss.Cvss3P1(s.score)) : s.type === 'CVSS_V2' ? new cvss.Cvss2(s.score) : undefined;
    const base = vector?.calculateScores().base;
    return typeof base === 'number' && Number.isFinite(base) ? base : undefined;
  } catch {
    // A vector the calculator cannot read falls back to the database's rating.
    return undefined;
  }
}

const PREFERENCE = ['CVSS_V4', 'CVSS_V3', 'CVSS_V2'];

/**
 * The severity of one OSV record (per-`affected` severities first, as the schema allows them there).
 *
 * @example
 * severityOf({ id: 'X', modified: '', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] });
 * // → { severity: 'critical', score: 9.8, vector: 'CVSS:3.1/…' }
 */
export function severityOf(record: OsvRecord, affectedSeverity: OsvSeverity[] = []): SeverityInfo {
  if (affectedSeverity.length > 0) return computeSeverity(record, affectedSeverity);
  let info = bySeverityRecord.get(record);
  if (info === undefined) bySeverityRecord.set(record, (info = computeSeverity(record, [])));
  return info;
}

/** Scoring a CVSS vector is the costliest step of matching; each record is scored once. */
const bySeverityRecord = new WeakMap<OsvRecord, SeverityInfo>();

function computeSeverity(record: OsvRecord, affectedSeverity: OsvSeverity[]): SeverityInfo {
  const vectors = [...affectedSeverity, ...(record.severity ?? [])].sort((a, b) => rank(a.type) - rank(b.type));
  for (const v of vectors) {
    const score = scoreOf(v);
    if (score !== undefined) return { severity: ratingOf(score), score, vector: v.score };
  }
  const word = record.database_specific?.severity;
  return { severity: (typeof word === 'string' ? parseSeverity(word) : undefined) ?? 'unknown' };
}

function rank(type: string): number {
  const i = PREFERENCE.indexOf(type);
  return i < 0 ? PREFERENCE.length : i;
}
