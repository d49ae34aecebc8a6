import { existsSync } from 'node:fs';
import { SpecError } from '../../scanner/openapi.js';
import { runLint } from '../../scanner/lint/lint.js';
import { parseFormats } from '../../scanner/reporters/index.js';
import { parse, EXIT, UsageError, type Command } from '../command.js';
import { finish, parseSeverity } from './scan.js';

/** `rampart lint`: static posture check of a gateway config and its OpenAPI documents. */
export const lintCommand: Command = {
  name: 'lint',
  help: `Usage: rampart lint [FILE] [--spec OPENAPI]… [--format json,sarif,junit,html] [--out DIR] [--fail-on SEV] [--json]

FILE is a rampart.yaml (default: ./rampart.yaml) or an OpenAPI document on its own. The OpenAPI
documents that routes reference (openapi stage) are linted too, and checked for operations that no
route covers; --spec adds more.

Options:
  --spec FILE      an OpenAPI document to lint with the config (repeatable)
  --format LIST    report formats written to --out: json,sarif,junit,html (default json)
  --out DIR        where reports are written (default reports/)
  --fail-on SEV    exit 1 when a finding is at least SEV (default high)
  --json           print the JSON report on stdout instead of a summary

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 bad usage or invalid input.`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      spec: { type: 'string', multiple: true },
      format: { type: 'string' },
      out: { type: 'string' },
      'fail-on': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (positionals.length > 1) throw new UsageError('lint takes at most one FILE (add OpenAPI documents with --spec)');
    const file = positionals[0] ?? (values.spec === undefined || existsSync('rampart.yaml') ? 'rampart.yaml' : undefined);
    if (file !== undefined && !existsSync(file)) throw new UsageError(`cannot read ${file}: no such file`);
    const failOn = parseSeverity(values['fail-on'] ?? 'high');
    let formats;
    try {
      formats = parseFormats(values.format ?? 'json');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let report;
    try {
      report = runLint({ file, specs: values.spec, env: io.env });
    } catch (err) {
      if (err instanceof SpecError) throw new UsageError(err.message);
      throw err;
    }
    return finish(report, formats, values.out ?? 'reports', failOn, values.json === true, io);
  },
};
