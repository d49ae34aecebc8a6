/**
 * JUnit XML: one test suite per category, one test case per rule; a rule with findings fails
 * (one <failure> per finding), a rule without passes. CI systems show it as a test report.
 */
import { CATEGORIES, type CategoryId, type Report } from '../types.js';

/** Escapes text for XML attributes and content; drops characters XML 1.0 forbids. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * @example
 *   writeFileSync('rampart-scan.junit.xml', toJunit(report));
 */
export function toJunit(report: Report): string {
  const byCategory = new Map<CategoryId, Report['rules']>();
  for (const rule of report.rules) byCategory.set(rule.category, [...(byCategory.get(rule.category) ?? []), rule]);
  const suites = [...byCategory].map(([category, rules]) => {
    const cases = rules.map((rule) => {
      const found = report.findings.filter((f) => f.ruleId === rule.id);
      const failures = found
        .map((f) => `      <failure message="${xmlEscape(`[${f.severity}] ${f.location}: ${f.description}`)}" type="${f.severity}">${xmlEscape(`${f.description}\nRemediation: ${f.remediation}\n${f.evidence.map((e) => `${e.request.method} ${e.request.url} -> ${e.response?.status ?? e.note ?? ''}`).join('\n')}`)}</failure>`)
        .join('\n');
      return `    <testcase classname="rampart.${report.kind}.${category}" name="${xmlEscape(`${rule.id}: ${rule.title}`)}">${failures === '' ? '' : `\n${failures}\n    `}</testcase>`;
    });
    const failed = rules.filter((r) => report.findings.some((f) => f.ruleId === r.id)).length;
    return `  <testsuite name="${xmlEscape(`${category} ${CATEGORIES[category]}`)}" tests="${rules.length}" failures="${failed}" errors="0" skipped="0" timestamp="${report.startedAt}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const failures = report.rules.filter((r) => report.findings.some((f) => f.ruleId === r.id)).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="rampart ${report.kind} ${xmlEscape(report.target)}" tests="${report.rules.length}" failures="${failures}" errors="0">\n${suites.join('\n')}\n</testsuites>\n`;
}
