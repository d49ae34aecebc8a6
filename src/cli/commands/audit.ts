import { statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { auditGraphs, type Finding } from '../../audit/audit.js';
import { AuditInputError } from '../../audit/errors.js';
import { addIgnore, IGNORE_FILE, readIgnores } from '../../audit/ignore.js';
import { findLockfiles, parseLockfile } from '../../audit/lockfiles/index.js';
import { loadOsv } from '../../audit/osv/database.js';
import { DEFAULT_OSV_URL, fetchOnline } from '../../audit/osv/online.js';
import { renderReport, REPORT_FORMATS, type ReportFormat } from '../../audit/report/index.js';
import { rampartHome } from '../../audit/self.js';
import { parseSeverity, SEVERITIES, type Severity } from '../../audit/severity.js';
import type { DependencyGraph } from '../../audit/types.js';
import { EXIT, parse, parseDuration, UsageError, type CliIO, type Command } from '../command.js';

/** Lockfiles with more packages than this get a progress bar (on a terminal, table format). */
const PROGRESS_THRESHOLD = 1000;

/** `rampart audit [DIR|LOCKFILE] [--osv PATH | --online] [--format …] [--fail-on SEV]`. */
export const auditCommand: Command = {
  name: 'audit',
  help: `Usage:
  rampart audit [DIR|LOCKFILE] [--osv PATH | --online [--osv-url URL]] [--format table|json|sarif|html]
                [--out FILE] [--fail-on low|medium|high|critical|none] [--self]
  rampart audit [DIR] --ignore ID --reason TEXT [--expires 90d]

Reads package-lock.json (v1-v3), npm-shrinkwrap.json, yarn.lock (classic and berry), pnpm-lock.yaml,
requirements.txt (pinned) and Cargo.lock in DIR (default .), and reports every installed package
version an advisory affects, with the dependency chain it arrives through and the upgrade to make.

Options:
  --osv PATH         directory or .zip of OSV JSON records (osv.dev's per-ecosystem all.zip);
                     default $RAMPART_OSV_PATH
  --online           ask the OSV API instead (POST /v1/querybatch)
  --osv-url URL      OSV API base URL (default $RAMPART_OSV_URL or ${DEFAULT_OSV_URL})
  --format FMT       table (default), json, sarif (SARIF 2.1.0) or html (self-contained page)
  --json             same as --format json
  --out FILE         write the report to FILE instead of stdout
  --fail-on SEV      exit 1 when a finding is at least SEV (default low: any finding);
                     findings without a severity count at every level; none: always exit 0
  --self             audit Rampart's own installation
  --ignore ID        accept advisory ID (or an alias) with --reason, until --expires (default 90d);
                     recorded in DIR/${IGNORE_FILE}
  --ignore-file FILE where exceptions are kept (default DIR/${IGNORE_FILE})

Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 bad usage or malformed input.`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      osv: { type: 'string' },
      online: { type: 'boolean' },
      'osv-url': { type: 'string' },
      format: { type: 'string' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      'fail-on': { type: 'string' },
      self: { type: 'boolean' },
      ignore: { type: 'string' },
      reason: { type: 'string' },
      expires: { type: 'string' },
      'ignore-file': { type: 'string' },
    });
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (positionals.length > 1) throw new UsageError('audit takes at most one DIR or LOCKFILE');
    if (values.self === true && positionals.length > 0) throw new UsageError('--self audits Rampart itself: give no DIR');
    const target = values.self === true ? rampartHome().dir : (positionals[0] ?? '.');
    const projectDir = isDirectory(target) ? target : dirname(target);
    const ignoreFile = values['ignore-file'] ?? join(projectDir, IGNORE_FILE);
    try {
      if (values.ignore !== undefined) {
        if (values.reason === undefined) throw new UsageError('--ignore needs --reason TEXT (why the risk is accepted)');
        const now = Date.now();
        const entry = addIgnore(ignoreFile, { id: values.ignore, reason: values.reason, expiresAt: now + parseDuration(values.expires ?? '90d'), now });
        io.out(`ignoring ${entry.id} until ${entry.expires} (recorded in ${ignoreFile})\n`);
        return EXIT.ok;
      }
      for (const o of ['reason', 'expires'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} only goes with --ignore`);

      const format = (values.json === true ? 'json' : (values.format ?? 'table')) as ReportFormat;
      if (!REPORT_FORMATS.includes(format)) throw new UsageError(`unknown --format ${JSON.stringify(values.format)} (use ${REPORT_FORMATS.join(', ')})`);
      const failOn = values['fail-on'] === 'none' ? 'none' : parseSeverity(values['fail-on'] ?? 'low');
      if (failOn === undefined || failOn === 'unknown') throw new UsageError(`unknown --fail-on ${JSON.stringify(values['fail-on'])} (use low, medium, high, critical or none)`);
      const osvPath = values.osv ?? (values.online === true ? undefined : io.env.RAMPART_OSV_PATH || undefined);
      if (values.osv !== undefined && values.online === true) throw new UsageError('give either --osv PATH or --online, not both');
      if (osvPath === undefined && values.online !== true) {
        throw new UsageError('no advisory data: give --osv PATH (a directory or .zip of OSV records, e.g. osv.dev\'s per-ecosystem all.zip), set RAMPART_OSV_PATH, or use --online');
      }

      const graphs: DependencyGraph[] = findLockfiles(target).map((f) => parseLockfile(f));
      const db = osvPath !== undefined ? loadOsv(osvPath) : await fetchOnline(graphs, values['osv-url'] ?? (io.env.RAMPART_OSV_URL || DEFAULT_OSV_URL));
      const total = graphs.reduce((n, g) => n + g.packages.size, 0);
      const progress = format === 'table' && values.out === undefined && process.stderr.isTTY && total > PROGRESS_THRESHOLD;
      const result = auditGraphs(graphs, db, { ignores: readIgnores(ignoreFile), onProgress: progress ? (done, all) => drawProgress(io, done, all) : undefined });
      if (progress) io.err('\r\x1b[K');
      const report = renderReport(result, format, rampartHome().version);
      if (values.out !== undefined) {
        writeFileSync(values.out, report);
        io.err(`report written to ${values.out}\n`);
      } else io.out(report);
      return result.findings.some((f) => fails(f, failOn)) ? EXIT.findings : EXIT.ok;
    } catch (err) {
      if (err instanceof AuditInputError) throw new UsageError(err.message);
      throw err;
    }
  },
};

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Fail closed: an advisory without a severity fails the build at any threshold. */
function fails(finding: Finding, failOn: Severity | 'none'): boolean {
  if (failOn === 'none') return false;
  return finding.severity === 'unknown' || SEVERITIES.indexOf(finding.severity) >= SEVERITIES.indexOf(failOn);
}

function drawProgress(io: CliIO, done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  io.err(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} packages`);
}
