import { loadSpecFile, SpecError } from '../../scanner/openapi.js';
import { parseIdentity, type Identity } from '../../scanner/http.js';
import { runScan } from '../../scanner/scan.js';
import { parseFormats, writeReports, type Format } from '../../scanner/reporters/index.js';
import { atLeast, CATEGORIES, SEVERITIES, summarize, type CategoryId, type Report, type Severity } from '../../scanner/types.js';
import { EXIT, parse, UsageError, type CliIO, type Command } from '../command.js';

/** `rampart scan`: OWASP API Top 10 (2023) checks against a live API, driven by its OpenAPI document. */
export const scanCommand: Command = {
  name: 'scan',
  help: `Usage: rampart scan --spec FILE --target URL --identity NAME=HEADER:VALUE [--identity …]… [options]

Sends requests only to the origin of --target (the spec's servers are ignored), at most --rate per second.
Give two or more identities (two regular users for object-level checks; names starting with "admin" are
treated as administrators), e.g. --identity alice=Authorization:"Bearer eyJ…" --identity bob=X-Api-Key:rk_…

Options:
  --spec FILE          OpenAPI 3.x document (YAML or JSON; local $refs only)
  --target URL         base URL of the API (http or https), e.g. https://127.0.0.1:8443
  --identity N=H:V     an identity: a name, a header and its value (repeatable)
  --format LIST        report formats: json,sarif,junit,html (default json)
  --out DIR            where reports are written (default reports/)
  --safe               never send PUT, PATCH or DELETE (POST is still used to create test objects)
  --rate N             requests per second, at most (default 20)
  --fail-on SEV        exit 1 when a finding is at least SEV: info, low, medium, high, critical (default high)
  --only LIST          only these categories, e.g. API1,API2,INJ
  --insecure           accept a certificate that does not verify (self-signed development gateways)
  --json               print the JSON report on stdout instead of a summary

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 bad usage or input.`,
  async run(args, io) {
    const { values } = parse(args, {
      spec: { type: 'string' },
      target: { type: 'string' },
      identity: { type: 'string', multiple: true },
      format: { type: 'string' },
      out: { type: 'string' },
      safe: { type: 'boolean' },
      rate: { type: 'string' },
      'fail-on': { type: 'string' },
      only: { type: 'string' },
      insecure: { type: 'boolean' },
      json: { type: 'boolean' },
    }, false);
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (values.spec === undefined) throw new UsageError('--spec FILE is required');
    if (values.target === undefined) throw new UsageError('--target URL is required');
    if (!/^https?:\/\/[^/]+/i.test(values.target)) throw new UsageError('--target must be an http(s) URL');
    const identities: Identity[] = (values.identity ?? []).map((text) => usage(() => parseIdentity(text)));
    if (identities.length === 0) throw new UsageError('give at least one --identity NAME=HEADER:VALUE (two regular users for object-level checks)');
    if (new Set(identities.map((i) => i.name)).size !== identities.length) throw new UsageError('identity names must be unique');
    const rate = values.rate === undefined ? 20 : Number(values.rate);
    if (!Number.isFinite(rate) || rate <= 0 || rate > 10_000) throw new UsageError('--rate must be a number of requests per second between 0 and 10000');
    const failOn = parseSeverity(values['fail-on'] ?? 'high');
    const formats = usage(() => parseFormats(values.format ?? 'json'));
    const only = values.only?.split(',').map((c) => c.trim().toUpperCase()) as CategoryId[] | undefined;
    const unknown = only?.find((c) => !(c in CATEGORIES));
    if (unknown !== undefined) throw new UsageError(`unknown category ${JSON.stringify(unknown)} (use ${Object.keys(CATEGORIES).join(', ')})`);
    let spec;
    try {
      spec = loadSpecFile(values.spec);
    } catch (err) {
      if (err instanceof SpecError) throw new UsageError(err.message);
      throw err;
    }
    const report = await runScan({
      spec,
      target: values.target,
      identities,
      rate,
      safe: values.safe === true,
      insecure: values.insecure === true,
      only,
      progress: { write: (t) => io.err(t), isTTY: process.stderr.isTTY === true, columns: process.stderr.columns },
    });
    return finish(report, formats, values.out ?? 'reports', failOn, values.json === true, io);
  },
};

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--fail-on` value. */
export function parseSeverity(text: string): Severity {
  const s = text.toLowerCase();
  if (!(SEVERITIES as readonly string[]).includes(s)) throw new UsageError(`unknown severity ${JSON.stringify(text)} (use ${SEVERITIES.join(', ')})`);
  return s as Severity;
}

/** Writes the reports, prints the summary (or the JSON), and picks the exit code. Shared with lint. */
export function finish(report: Report, formats: readonly Format[], out: string, failOn: Severity, json: boolean, io: CliIO): number {
  const files = writeReports(report, formats, out);
  if (json) io.out(`${JSON.stringify(report)}\n`);
  else {
    const { bySeverity } = summarize(report.findings);
    io.out(`${report.kind === 'scan' ? `scanned ${report.target} with ${report.requests} requests` : `linted ${report.target}`}${report.score !== undefined ? `, score ${report.score}/100` : ''}\n`);
    io.out(`findings: ${[...SEVERITIES].reverse().map((s) => `${bySeverity[s]} ${s}`).join(', ')}\n`);
    for (const f of report.findings) io.out(`  [${f.severity}] ${f.category} ${f.location}: ${f.title}\n`);
    for (const n of report.notes) io.out(`  note: ${n}\n`);
    io.out(`reports: ${files.join(', ')}\n`);
  }
  return report.findings.some((f) => atLeast(f.severity, failOn)) ? EXIT.findings : EXIT.ok;
}
