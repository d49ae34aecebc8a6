/**
 * CI guard against catastrophic backtracking: every regular-expression literal in the inspection
 * code (engine, body parsing, contract) must have star height ≤ 1 (safe-regex2), so no crafted input
 * can make a pattern exponential. Literals are found with the TypeScript parser, not by guessing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import safeRegex from 'safe-regex2';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/gateway.js';

const DIRS = ['src/waf', 'src/validate', 'src/openapi', 'src/stages/waf', 'src/stages/openapi'];

function regexLiterals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) out.push(node.getText(source));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('regular expressions in inspection code', () => {
  const files = DIRS.flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, d, f)));
  for (const file of files) {
    it(`${file.slice(ROOT.length)} has no catastrophic-backtracking pattern`, () => {
      const unsafe = regexLiterals(file).filter((literal) => {
        const end = literal.lastIndexOf('/');
        return !safeRegex(new RegExp(literal.slice(1, end), literal.slice(end + 1)));
      });
      expect(unsafe).toEqual([]);
    });
  }
});
