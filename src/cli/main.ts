#!/usr/bin/env node
/**
 * `rampart` command line. Every command has `--help`; exit codes: 0 success, 1 findings or failed
 * verification, 2 bad usage or input. Errors print one clear line, never a stack trace.
 */
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { EXIT, UsageError, type CliIO, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { ConfigError } from '../config/load.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `rampart: API security gateway and toolkit

Usage: rampart <command> [options]      (rampart <command> --help for details)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
`;
}

/** Runs the CLI and returns the exit code (never throws). */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out('rampart 0.1.0\n');
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    io.err(`rampart: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const command: Command = await entry.load();
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`rampart ${name}: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      io.err(`rampart ${name}: invalid configuration\n${err.message}\n`);
      return EXIT.usage;
    }
    const e = err as NodeJS.ErrnoException;
    io.err(`rampart ${name}: ${e.code !== undefined ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    return EXIT.findings;
  }
}

const invoked = process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
const viaBin = process.argv[1] !== undefined && /[\\/]rampart(\.js)?$/.test(process.argv[1]);
if (invoked || viaBin) {
  const io: CliIO = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`rampart: ${(err as Error).message}\n`);
      process.exitCode = EXIT.findings;
    },
  );
}
