/**
 * SARIF 2.1.0 for code-scanning tools. Scan findings point at the operation (as a logical
 * location and, for upload tools that need a file, the target URL); lint findings at the file.
 */
import { CATEGORIES, type Report, type Severity } from '../types.js';

const LEVEL: Record<Severity, 'none' | 'note' | 'warning' | 'error'> = { info: 'note', low: 'note', medium: 'warning', high: 'error', critical: 'error' };
/** GitHub code scanning reads `security-severity` (0–10) from rule properties. */
const SCORE: Record<Severity, string> = { info: '0.0', low: '3.0', medium: '5.5', high: '8.0', critical: '9.5' };

/**
 * @example
 *   JSON.stringify(toSarif(report)) // { version: '2.1.0', runs: [{ tool: { driver: { name: 'rampart', … } }, results: […] }] }
 */
export function toSarif(report: Report): Record<string, unknown> {
  const worst = new Map<string, Severity>();
  for (const f of report.findings) worst.set(f.ruleId, f.severity);
  const rules = report.rules.map((r) => ({
    id: r.id,
    name: r.id.replace(/[^A-Za-z0-9]/g, ''),
    shortDescription: { text: r.title },
    fullDescription: { text: `${r.category}: ${CATEGORIES[r.category]}. ${r.title}.` },
    helpUri: 'https://owasp.org/API-Security/editions/2023/en/0x11-t10/',
    properties: { tags: ['security', r.category], 'security-severity': SCORE[worst.get(r.id) ?? 'medium'] },
  }));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = report.findings.map((f) => ({
    ruleId: f.ruleId,
    ruleIndex: index.get(f.ruleId),
    level: LEVEL[f.severity],
    message: { text: `${f.title}: ${f.description} Remediation: ${f.remediation}` },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: report.kind === 'lint' ? fileOf(f.location, report.target) : report.target } },
        logicalLocations: [{ fullyQualifiedName: f.location, kind: report.kind === 'lint' ? 'member' : 'function' }],
      },
    ],
    partialFingerprints: { rampartFinding: `${f.ruleId}:${f.location}` },
    properties: { severity: f.severity, category: f.category, evidence: f.evidence },
  }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'rampart', version: report.tool.version, informationUri: 'https://owasp.org/API-Security/', rules } },
        invocations: [{ executionSuccessful: true, startTimeUtc: report.startedAt, endTimeUtc: report.finishedAt, toolExecutionNotifications: report.notes.map((n) => ({ message: { text: n }, level: 'note' })) }],
        results,
      },
    ],
  };
}

/** Lint locations are `FILE: path`; the file part becomes the artifact. */
function fileOf(location: string, fallback: string): string {
  const file = location.split(': ')[0] ?? fallback;
  return file.replace(/\\/g, '/');
}
