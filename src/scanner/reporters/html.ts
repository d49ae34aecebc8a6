/**
 * A self-contained HTML report (inline CSS, no scripts, no external resources): a summary by
 * severity and by category, then every finding with its evidence. All report text is escaped,
 * since evidence holds attacker-controlled bodies.
 */
import { CATEGORIES, SEVERITIES, summarize, type CategoryId, type Finding, type Report } from '../types.js';
import { xmlEscape as esc } from './junit.js';

const COLORS = { info: '#6b7280', low: '#2563eb', medium: '#d97706', high: '#dc2626', critical: '#7f1d1d' } as const;

/**
 * @example
 *   writeFileSync('rampart-scan.html', toHtml(report)); // open in a browser
 */
export function toHtml(report: Report): string {
  const { bySeverity, byCategory } = summarize(report.findings);
  const sorted = [...report.findings].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity));
  const sevCells = [...SEVERITIES].reverse().map((s) => `<div class="sev" style="border-color:${COLORS[s]}"><b data-severity="${s}">${bySeverity[s]}</b><span>${s}</span></div>`).join('');
  const catRows = (Object.keys(CATEGORIES) as CategoryId[])
    .filter((c) => report.rules.some((r) => r.category === c))
    .map((c) => `<tr><td>${c}</td><td>${esc(CATEGORIES[c])}</td><td class="n" data-category="${c}">${byCategory[c] ?? 0}</td><td>${byCategory[c] ? '✗' : '✓'}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Rampart ${report.kind} report: ${esc(report.target)}</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:0;color:#111827;background:#f9fafb}
header{background:#111827;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#d1d5db}
main{padding:16px 24px;max-width:1100px}
.sevs{display:flex;gap:12px;margin:12px 0}.sev{background:#fff;border-left:6px solid;padding:8px 16px;min-width:80px}.sev b{display:block;font-size:24px}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left}.n{text-align:right}
.finding{background:#fff;margin:12px 0;padding:12px 16px;border-left:6px solid}.finding h3{margin:0 0 4px;font-size:16px}
.badge{color:#fff;padding:1px 8px;border-radius:10px;font-size:12px;text-transform:uppercase}
pre{background:#f3f4f6;padding:8px;overflow:auto;max-height:260px;white-space:pre-wrap;word-break:break-all;font-size:12px}
</style></head>
<body>
<header><h1>Rampart ${report.kind} report</h1><p>${esc(report.target)} · ${esc(report.startedAt)} → ${esc(report.finishedAt)}${report.kind === 'scan' ? ` · ${report.requests} requests` : ''}${report.score !== undefined ? ` · score <b id="score">${report.score}</b>/100` : ''}</p></header>
<main>
<section id="summary"><h2>Summary</h2><p id="total">${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}</p>
<div class="sevs">${sevCells}</div>
<table><thead><tr><th>Category</th><th>Name</th><th class="n">Findings</th><th>Result</th></tr></thead><tbody>${catRows}</tbody></table></section>
<section id="findings"><h2>Findings</h2>${sorted.map(renderFinding).join('\n') || '<p>No findings.</p>'}</section>
${report.notes.length > 0 ? `<section id="notes"><h2>Notes</h2><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>` : ''}
</main></body></html>
`;
}

function renderFinding(f: Finding): string {
  const evidence = f.evidence
    .map((e) => {
      const req = `${e.request.method} ${e.request.url}\n${Object.entries(e.request.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}${e.request.body ? `\n\n${e.request.body}` : ''}`;
      const res = e.response ? `HTTP ${e.response.status} (${e.response.durationMs} ms)\n${Object.entries(e.response.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${e.response.body}` : '';
      return `<details><summary>${esc(`${e.request.method} ${e.request.url}`)} → ${e.response?.status ?? 'no response'}${e.note ? ` · ${esc(e.note)}` : ''}</summary><pre>${esc(req)}</pre>${res ? `<pre>${esc(res)}</pre>` : ''}</details>`;
    })
    .join('');
  return `<article class="finding" style="border-color:${COLORS[f.severity]}"><h3><span class="badge" style="background:${COLORS[f.severity]}">${f.severity}</span> ${esc(f.category)} · ${esc(f.title)}</h3>
<p><code>${esc(f.location)}</code> · <code>${esc(f.ruleId)}</code></p><p>${esc(f.description)}</p><p><b>Remediation:</b> ${esc(f.remediation)}</p>${evidence}</article>`;
}
