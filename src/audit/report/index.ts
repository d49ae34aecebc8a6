/**
 * Audit reports: a text table (default), JSON, SARIF 2.1.0 (for code-scanning UIs) and a
 * self-contained HTML page.
 */
import type { AuditResult, Finding } from '../audit.js';
import { SEVERITIES } from '../severity.js';

export const REPORT_FORMATS = ['table', 'json', 'sarif', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * Renders an audit result.
 *
 * @example
 * process.stdout.write(renderReport(result, 'sarif'));
 */
export function renderReport(result: AuditResult, format: ReportFormat, version: string): string {
  if (format === 'json') return `${JSON.stringify(toJson(result), null, 2)}\n`;
  if (format === 'sarif') return `${JSON.stringify(toSarif(result, version), null, 2)}\n`;
  if (format === 'html') return toHtml(result);
  return toTable(result);
}

/**
 * Counts of findings per severity, most severe first.
 *
 * @example
 * countBySeverity(result.findings); // { critical: 1, high: 2, medium: 2, low: 0, unknown: 0 }
 */
export function countBySeverity(findings: Finding[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of [...SEVERITIES].reverse()) counts[s] = findings.filter((f) => f.severity === s).length;
  return counts;
}

function toJson(result: AuditResult): unknown {
  return {
    lockfiles: result.lockfiles,
    packages: result.packages,
    advisories: result.advisories,
    withdrawnSkipped: result.withdrawn,
    summary: countBySeverity(result.findings),
    findings: result.findings,
    ignored: result.ignored.map((i) => ({ id: i.finding.id, package: i.finding.package, version: i.finding.version, reason: i.ignore.reason, expires: i.ignore.expires })),
    warnings: result.warnings,
  };
}

function summaryLine(result: AuditResult): string {
  const counts = Object.entries(countBySeverity(result.findings))
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const found = result.findings.length === 0 ? 'no known vulnerabilities' : `${result.findings.length} vulnerabilit${result.findings.length === 1 ? 'y' : 'ies'} (${counts})`;
  return `${found} in ${result.packages} packages from ${result.lockfiles.map((l) => `${l.file} [${l.format}]`).join(', ')}; ${result.advisories} advisories checked${result.ignored.length > 0 ? `, ${result.ignored.length} ignored` : ''}`;
}

function toTable(result: AuditResult): string {
  const head = ['SEVERITY', 'PACKAGE', 'VERSION', 'ADVISORY', 'FIXED IN', 'DEPENDENCY PATH'];
  const rows = result.findings.map((f) => [
    f.severity.toUpperCase() + (f.score !== undefined ? ` ${f.score.toFixed(1)}` : ''),
    f.package,
    f.version,
    f.id,
    f.fixed ?? 'none',
    f.direct ? '(direct)' : f.chain.join(' > '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out: string[] = [];
  if (rows.length > 0) {
    out.push(line(head), ...rows.map(line), '');
    for (const f of result.findings) {
      out.push(`${f.id}${f.aliases.length > 0 ? ` (${f.aliases.join(', ')})` : ''} ${f.package}@${f.version}: ${f.summary}`);
      out.push(`  fix: ${f.remediation}`);
    }
    out.push('');
  }
  for (const w of result.warnings) out.push(`warning: ${w}`);
  out.push(summaryLine(result));
  return `${out.join('\n')}\n`;
}

const SARIF_LEVEL = { critical: 'error', high: 'error', medium: 'warning', low: 'note', unknown: 'warning' } as const;

function toSarif(result: AuditResult, version: string): unknown {
  const rules = new Map<string, Finding>();
  for (const f of result.findings) if (!rules.has(f.id)) rules.set(f.id, f);
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'rampart-audit',
            version,
            informationUri: 'https://github.com/rampart/rampart/blob/main/docs/dependency-audit.md',
            rules: [...rules.values()].map((f) => ({
              id: f.id,
              name: f.id.replace(/[^A-Za-z0-9]/g, ''),
              shortDescription: { text: f.summary },
              helpUri: `https://osv.dev/vulnerability/${encodeURIComponent(f.id)}`,
              properties: {
                tags: ['security', 'dependency', ...f.aliases],
                // GitHub code scanning ranks results by this number (0.0–10.0) as a string.
                'security-severity': (f.score ?? { critical: 9.5, high: 8, medium: 5.5, low: 2, unknown: 5.5 }[f.severity]).toFixed(1),
              },
            })),
          },
        },
        results: result.findings.map((f) => ({
          ruleId: f.id,
          level: SARIF_LEVEL[f.severity],
          message: { text: `${f.package}@${f.version}: ${f.summary}. ${f.direct ? 'Direct dependency' : `Arrives via ${f.chain.join(' > ')}`}. Fix: ${f.remediation}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: f.lockfile.replace(/\\/g, '/') } } }],
          partialFingerprints: { package: `${f.ecosystem}/${f.package}@${f.version}/${f.id}` },
        })),
      },
    ],
  };
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function toHtml(result: AuditResult): string {
  const rows = result.findings
    .map(
      (f) => `<tr class="${f.severity}"><td>${esc(f.severity)}${f.score !== undefined ? ` ${f.score.toFixed(1)}` : ''}</td><td>${esc(f.package)}</td><td>${esc(f.version)}</td>` +
        `<td><a href="https://osv.dev/vulnerability/${encodeURIComponent(f.id)}">${esc(f.id)}</a>${f.aliases.length > 0 ? `<br><small>${esc(f.aliases.join(', '))}</small>` : ''}</td>` +
        `<td>${esc(f.summary)}</td><td>${esc(f.fixed ?? 'none')}</td><td>${esc(f.direct ? '(direct)' : f.chain.join(' › '))}</td><td><code>${esc(f.remediation)}</code></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rampart dependency audit</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
tr.critical td:first-child{background:#b00020;color:#fff}tr.high td:first-child{background:#e65100;color:#fff}
tr.medium td:first-child{background:#f9a825}tr.low td:first-child{background:#e3f2fd}code{font-size:12px}
</style></head><body>
<h1>Rampart dependency audit</h1>
<p>${esc(summaryLine(result))}</p>
${result.findings.length === 0 ? '<p>No known vulnerabilities.</p>' : `<table><thead><tr><th>Severity</th><th>Package</th><th>Version</th><th>Advisory</th><th>Summary</th><th>Fixed in</th><th>Dependency path</th><th>Fix</th></tr></thead><tbody>\n${rows}\n</tbody></table>`}
${result.warnings.length > 0 ? `<h2>Warnings</h2><ul>${result.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
