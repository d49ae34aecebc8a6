/**
 * `requirements.txt` with pinned versions (`name==1.2.3`, as `pip freeze` and `pip-compile` write
 * them). A requirements file has no graph, so every pinned line is a direct dependency.
 */
import { basename, dirname } from 'node:path';
import { AuditInputError } from '../errors.js';
import { GraphBuilder, type DependencyGraph } from '../types.js';

/**
 * PEP 503 normalised name: what PyPI and OSV index by.
 *
 * @example
 * normalizePypiName('Zope_Interface'); // 'zope-interface'
 */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const REQUIREMENT = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/;

/**
 * Parses requirements.txt; unpinned or URL requirements are skipped with a warning (no version to audit).
 *
 * @example
 * const graph = parseRequirements('requirements.txt', 'requests==2.30.0 --hash=sha256:abc…\n');
 */
export function parseRequirements(file: string, text: string): DependencyGraph {
  const g = new GraphBuilder(file, 'requirements.txt', 'PyPI', { name: basename(dirname(file)) || 'project', version: '0.0.0' });
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    // Backslash continues a requirement (typically onto its --hash lines).
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!}`;
    line = line.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('-')) {
      if (/^(-r|-c|--requirement|--constraint)\b/.test(line)) g.warnings.push(`${file}:${lineNo}: included file not followed: ${line}`);
      continue; // pip options (--index-url, -e …) carry no pinned package
    }
    const m = REQUIREMENT.exec(line);
    if (m === null) throw new AuditInputError(file, `not a requirement: ${JSON.stringify(line.slice(0, 80))}`, { line: lineNo, column: 1 });
    const [, name, , rest] = m as unknown as [string, string, string | undefined, string];
    const spec = rest.replace(/\s--hash=\S+/g, '').replace(/^--hash=\S+/, '').split(';')[0]!.trim();
    const pin = /^===?\s*([^\s,]+)$/.exec(spec);
    if (pin === null) {
      g.warnings.push(`${file}:${lineNo}: ${name} is not pinned with == (${spec === '' ? 'no version' : spec}); not audited`);
      continue;
    }
    if (pin[1]!.includes('*')) {
      g.warnings.push(`${file}:${lineNo}: ${name}${spec} is a wildcard, not a pin; not audited`);
      continue;
    }
    const hashes = [...rest.matchAll(/--hash=(sha256|sha384|sha512):([0-9a-fA-F]+)/g)].map((h) => `${h[1]}:${h[2]!.toLowerCase()}`);
    g.markDirect(g.add(normalizePypiName(name), pin[1]!, { integrity: hashes }));
  }
  return g.build();
}
