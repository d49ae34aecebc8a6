import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, RampartError, toRampartError } from '../../src/core/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^## (RAMPART_[A-Z0-9_]+)$/gm)].map((m) => m[1]!);

describe('error codes', () => {
  it('documents every code in docs/errors.md, with its status', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(documented, code).toContain(code);
      const section = doc.slice(doc.indexOf(`## ${code}\n`) + 1).split('\n## ')[0]!;
      expect(section, `${code} section states its status`).toContain(String(status));
    }
  });

  it('documents nothing that is not a code, and each code once', () => {
    for (const code of documented) expect(Object.keys(ERROR_CODES)).toContain(code);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('turns unknown failures into an internal error that hides the cause from clients', () => {
    const e = toRampartError(new Error('password=hunter2 at db.internal:5432'));
    expect(e.code).toBe('RAMPART_INTERNAL');
    expect(e.detail).not.toContain('hunter2');
    expect(e.reason).toContain('hunter2'); // for logs only
    const known = new RampartError('RAMPART_ROUTE_NOT_FOUND', 'x');
    expect(toRampartError(known)).toBe(known);
  });
});
