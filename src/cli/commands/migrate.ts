import { loadConfigFile } from '../../config/load.js';
import { openStore } from '../../stores/open.js';
import { EXIT, parse, UsageError, type Command } from '../command.js';

/** `rampart migrate`: applies pending store migrations (the gateway also does at start). */
export const migrateCommand: Command = {
  name: 'migrate',
  help: `Usage: rampart migrate [--config FILE] [--json]

Applies every pending migration to the store named by the config (sqlite:PATH or postgres://…),
in one transaction, and prints the ids applied. The gateway applies them at start as well.`,
  async run(args, io) {
    const { values, positionals } = parse(args, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, false);
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const loaded = loadConfigFile(values.config ?? 'rampart.yaml', io.env);
    const store = await openStore(loaded.config.store, { baseDir: loaded.baseDir, migrate: false });
    try {
      const applied = await store.migrate();
      if (values.json) io.out(`${JSON.stringify({ applied })}\n`);
      else io.out(applied.length === 0 ? 'store is up to date\n' : `applied ${applied.length} migration(s):\n${applied.map((id) => `  ${id}\n`).join('')}`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
