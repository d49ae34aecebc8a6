import { parse as parseYaml, YAMLParseError } from 'yaml';
import { AuditInputError } from '../errors.js';

/**
 * Parses a YAML lockfile, reporting syntax errors with the file, line and column.
 *
 * @example
 * parseYamlFile('pnpm-lock.yaml', text); // throws "pnpm-lock.yaml:4:3: invalid YAML: …" when broken
 */
export function parseYamlFile(file: string, text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 1000 });
  } catch (err) {
    if (!(err instanceof YAMLParseError)) throw err;
    const pos = err.linePos?.[0];
    const first = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new AuditInputError(file, `invalid YAML: ${first}`, pos === undefined ? undefined : { line: pos.line, column: pos.col });
  }
}
