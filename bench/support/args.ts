/**
 * Command-line options of the benchmark scripts: `parseArgs`, with a bad option or a missing value
 * answered by one line (and the script's name, whose header comment lists its options) and exit
 * code 2 instead of a stack trace.
 */
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function benchArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    console.error(`${basename(process.argv[1] ?? 'bench')}: ${err instanceof Error ? err.message : String(err)} (the options are listed at the top of the script)`);
    process.exit(2);
  }
}
