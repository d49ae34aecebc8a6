import { writeFileSync } from 'node:fs';
import { AuditInputError } from '../../audit/errors.js';
import { findLockfiles, parseLockfile } from '../../audit/lockfiles/index.js';
import { rampartHome } from '../../audit/self.js';
import { buildSbom } from '../../sbom/cyclonedx.js';
import { EXIT, parse, UsageError, type Command } from '../command.js';

/** `rampart sbom [DIR|LOCKFILE] [--self] [--out FILE]`: CycloneDX 1.5 JSON. */
export const sbomCommand: Command = {
  name: 'sbom',
  help: `Usage:
  rampart sbom [DIR|LOCKFILE] [--out FILE]   SBOM from the lockfiles in DIR (default .)
  rampart sbom --self [--out FILE]           SBOM of Rampart's own installation

Components carry purls, hashes from the lockfile's integrity fields, licences where the lockfile
or the installed package.json says, and the dependency graph. Output goes to stdout unless --out.
Set SOURCE_DATE_EPOCH (seconds) for a reproducible timestamp.`,
  async run(args, io) {
    const { values, positionals } = parse(args, { self: { type: 'boolean' }, out: { type: 'string' } });
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (positionals.length > 1) throw new UsageError('sbom takes at most one DIR or LOCKFILE');
    if (values.self === true && positionals.length > 0) throw new UsageError('--self describes Rampart itself: give no DIR');
    const home = rampartHome();
    const epoch = io.env.SOURCE_DATE_EPOCH;
    if (epoch !== undefined && !/^\d+$/.test(epoch)) throw new UsageError('SOURCE_DATE_EPOCH must be whole seconds since 1970');
    try {
      const graphs = findLockfiles(values.self === true ? home.dir : (positionals[0] ?? '.')).map((f) => parseLockfile(f, { readInstalled: true }));
      const bom = buildSbom(graphs, { toolVersion: home.version, now: epoch !== undefined ? Number(epoch) * 1000 : Date.now() });
      const text = `${JSON.stringify(bom, null, 2)}\n`;
      if (values.out !== undefined) {
        writeFileSync(values.out, text);
        io.err(`SBOM written to ${values.out} (${(bom.components as unknown[]).length} components)\n`);
      } else io.out(text);
      return EXIT.ok;
    } catch (err) {
      if (err instanceof AuditInputError) throw new UsageError(err.message);
      throw err;
    }
  },
};
