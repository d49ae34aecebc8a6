import { loadConfigFile } from '../../config/load.js';
import { openStore } from '../../stores/open.js';
import { resolveSecrets } from '../../keys/secrets-config.js';
import { SecretBox, SecretVault } from '../../keys/secret-box.js';
import { EXIT, parse, UsageError, type Command } from '../command.js';

/** `rampart secrets rotate-master`: re-encrypts every secret under the current master key. */
export const secretsCommand: Command = {
  name: 'secrets',
  help: `Usage: rampart secrets rotate-master [--config FILE] [--json]

Rotation without downtime:
  1. set secrets.masterKey to the new key and list the old one in secrets.previousMasterKeys;
     restart the gateways (they encrypt with the new key and still decrypt with the old one)
  2. run this command: every secret still under an old key is re-encrypted under the new one
  3. remove the old key from secrets.previousMasterKeys`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${this.help}\n`), EXIT.ok;
    if (sub !== 'rotate-master') throw new UsageError(`unknown secrets subcommand ${JSON.stringify(sub)} (rotate-master)`);
    const { values, positionals } = parse(rest, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, false);
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const loaded = loadConfigFile(values.config ?? 'rampart.yaml', io.env);
    const secrets = resolveSecrets(loaded.config, loaded.baseDir);
    const store = await openStore(loaded.config.store, { baseDir: loaded.baseDir });
    try {
      const result = await new SecretVault(store, new SecretBox(secrets.masterKey, secrets.previousMasterKeys)).rotateMaster();
      if (values.json) io.out(`${JSON.stringify({ masterKeyId: secrets.masterKey.id, ...result })}\n`);
      else io.out(`re-encrypted ${result.reencrypted} of ${result.total} secret(s) under master key ${secrets.masterKey.id}\n`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
