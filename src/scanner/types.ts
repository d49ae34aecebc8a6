/**
 * The finding model shared by `rampart scan` and `rampart lint`, and by every reporter.
 * The JSON report is this model serialised as is, so changing a field here changes a contract.
 */

/** Severity scale, lowest first (also the order of `--fail-on`). */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** OWASP API Security Top 10 (2023) categories, plus injection fuzzing and the posture (lint) family. */
export const CATEGORIES = {
  API1: 'Broken Object Level Authorization',
  API2: 'Broken Authentication',
  API3: 'Broken Object Property Level Authorization',
  API4: 'Unrestricted Resource Consumption',
  API5: 'Broken Function Level Authorization',
  API6: 'Unrestricted Access to Sensitive Business Flows',
  API7: 'Server Side Request Forgery',
  API8: 'Security Misconfiguration',
  API9: 'Improper Inventory Management',
  API10: 'Unsafe Consumption of APIs',
  INJ: 'Injection',
  LINT: 'Gateway and API posture',
} as const;
export type CategoryId = keyof typeof CATEGORIES;

/** One HTTP exchange, credentials already redacted. */
export interface Evidence {
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response?: { status: number; headers: Record<string, string>; body: string; durationMs: number };
  /** Free-form explanation of what in this exchange proves the finding. */
  note?: string;
}

export interface Finding {
  /** Stable rule id, e.g. `API1-bola-read` or `LINT-cors-wildcard`. */
  ruleId: string;
  category: CategoryId;
  severity: Severity;
  title: string;
  /** What was observed, in a sentence or two. */
  description: string;
  /** What to do about it. */
  remediation: string;
  /** `GET /notes/{id}`, a config path (`routes[0].stages`) or a file. */
  location: string;
  evidence: Evidence[];
}

/** The whole result, as written by the JSON reporter. */
export interface Report {
  /** Version of this report layout. */
  schemaVersion: 1;
  tool: { name: 'rampart'; version: string };
  kind: 'scan' | 'lint';
  /** Target origin (scan) or the linted files (lint). */
  target: string;
  startedAt: string;
  finishedAt: string;
  /** Requests sent (scan) — 0 for lint. */
  requests: number;
  /** 0–100 posture score (lint); absent for scans. */
  score?: number;
  /** Every rule that ran, so reporters can list passes (JUnit, SARIF rules). */
  rules: RuleInfo[];
  findings: Finding[];
  /** Checks skipped and why (e.g. `--safe`, no JSON body in the spec). */
  notes: string[];
}

export interface RuleInfo {
  id: string;
  category: CategoryId;
  title: string;
}

/** Counts by severity and by category. */
export function summarize(findings: readonly Finding[]): { bySeverity: Record<Severity, number>; byCategory: Partial<Record<CategoryId, number>> } {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byCategory: Partial<Record<CategoryId, number>> = {};
  for (const f of findings) {
    bySeverity[f.severity]++;
    byCategory[f.category] = (byCategory[f.category] ?? 0) + 1;
  }
  return { bySeverity, byCategory };
}

/** True when `severity` is at least `threshold`. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(threshold);
}
