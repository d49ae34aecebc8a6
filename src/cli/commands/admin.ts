import { loadConfigFile } from '../../config/load.js';
import { openStore } from '../../stores/open.js';
import { resolveSecrets } from '../../keys/secrets-config.js';
import { CredentialHasher } from '../../keys/hash.js';
import { issueAdminToken } from '../../admin/admin-auth.js';
import { EXIT, parse, UsageError, type Command } from '../command.js';

/** `rampart admin bootstrap`: the first admin token, printed once. Works on the store directly. */
export const adminCommand: Command = {
  name: 'admin',
  help: `Usage: rampart admin bootstrap [--config FILE] [--name NAME] [--json]

Creates the first admin token (role admin) in the store named by the config and prints it once.
Refused when an admin token exists already: create more with POST /admin/v1/admin-tokens.
There is no default admin credential; RAMPART_ADMIN_TOKEN at gateway start is the other way in.`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${this.help}\n`), EXIT.ok;
    if (sub !== 'bootstrap') throw new UsageError(`unknown admin subcommand ${JSON.stringify(sub)} (bootstrap)`);
    const { values, positionals } = parse(rest, { config: { type: 'string', short: 'c' }, name: { type: 'string' }, json: { type: 'boolean' } }, false);
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const loaded = loadConfigFile(values.config ?? 'rampart.yaml', io.env);
    const secrets = resolveSecrets(loaded.config, loaded.baseDir);
    const store = await openStore(loaded.config.store, { baseDir: loaded.baseDir });
    try {
      if ((await store.countActiveAdminTokens()) > 0) {
        throw new UsageError('an admin token exists already; create more through the admin API (POST /admin/v1/admin-tokens)');
      }
      const { record, token } = await issueAdminToken(store, new CredentialHasher(secrets.pepper), { name: values.name ?? 'bootstrap', role: 'admin', createdBy: 'rampart admin bootstrap' });
      if (values.json) io.out(`${JSON.stringify({ id: record.id, name: record.name, role: record.role, prefix: record.prefix, token })}\n`);
      else io.out(`${token}\n\nFirst admin token (role admin, id ${record.id}). It is shown once: store it now, e.g.\n  export RAMPART_ADMIN_TOKEN=<the token above>\n`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
