import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where a command writes; tests pass buffers, the bin passes the process streams. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

/** Exit codes of the contract: 0 success, 1 findings or failed verification, 2 bad usage or input. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** Bad usage or bad input: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A `rampart` subcommand (or group of subcommands). */
export interface Command {
  readonly name: string;
  /** Full help text shown by `rampart NAME --help`. */
  readonly help: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** `util.parseArgs` with usage errors turned into {@link UsageError}. */
export function parse<T extends ParseArgsConfig['options']>(args: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Parses `30d`, `24h`, `15m`, `10s`, `500ms` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (m === null) throw new UsageError(`invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 10s, 15m, 24h, 30d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
