/**
 * Bad input to the audit or SBOM (a malformed lockfile or OSV record): always names the file and,
 * when known, the line and column. The CLI prints the message and exits 2.
 *
 * @example
 * throw new AuditInputError('yarn.lock', 'expected "key value"', { line: 12, column: 3 });
 * // message: "yarn.lock:12:3: expected "key value""
 */
export class AuditInputError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly position?: { line: number; column: number },
  ) {
    super(`${file}${position !== undefined ? `:${position.line}:${position.column}` : ''}: ${problem}`);
    this.name = 'AuditInputError';
  }
}

/**
 * Line and column (1-based) of a character offset in `text`.
 *
 * @example
 * positionOf('a\nbc', 3); // { line: 2, column: 2 }
 */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * `JSON.parse` that reports syntax errors as {@link AuditInputError} with a line and column.
 *
 * @example
 * parseJsonFile('x.json', '{,}'); // throws "x.json:1:2: invalid JSON: …"
 */
export function parseJsonFile(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const offset = at !== null ? Number(at[1]) : text.length;
    return throwAt(file, `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`, positionOf(text, offset));
  }
}

function throwAt(file: string, problem: string, position: { line: number; column: number }): never {
  throw new AuditInputError(file, problem, position);
}
