import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema } from '../../config/schema.js';
import { ConfigError, loadConfigFile } from '../../config/load.js';
import { EXIT, parse, UsageError, type Command } from '../command.js';

/** `rampart config check [FILE]` and `rampart config schema [--out FILE]`. */
export const configCommand: Command = {
  name: 'config',
  help: `Usage:
  rampart config check [FILE] [--json]   validate FILE (default rampart.yaml); exit 2 listing every problem
  rampart config schema [--out FILE]     print the JSON Schema of rampart.yaml (for editors)`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'check') {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
      if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
      if (positionals.length > 1) throw new UsageError('config check takes at most one FILE');
      const file = positionals[0] ?? 'rampart.yaml';
      try {
        const { config } = loadConfigFile(file, io.env);
        if (values.json) io.out(`${JSON.stringify({ valid: true, file, routes: config.routes.length })}\n`);
        else io.out(`${file}: valid (${config.routes.length} route${config.routes.length === 1 ? '' : 's'})\n`);
        return EXIT.ok;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        if (values.json) io.out(`${JSON.stringify({ valid: false, file, problems: err.problems })}\n`);
        else io.err(`${err.message}\n`);
        return EXIT.usage;
      }
    }
    if (sub === 'schema') {
      const { values } = parse(rest, { out: { type: 'string' } }, false);
      if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
      const schema = JSON.stringify(jsonSchema(), null, 2);
      if (values.out !== undefined) writeFileSync(values.out, `${schema}\n`);
      else io.out(`${schema}\n`);
      return EXIT.ok;
    }
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${this.help}\n`), EXIT.ok;
    throw new UsageError(`unknown config subcommand ${JSON.stringify(sub)}`);
  },
};

/** JSON Schema of rampart.yaml, generated from the one zod schema. */
export function jsonSchema(): unknown {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'Rampart configuration (rampart.yaml)',
  };
}
