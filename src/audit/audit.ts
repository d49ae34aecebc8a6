/**
 * Matches dependency graphs against OSV advisories and turns the matches into findings: one per
 * installed package and vulnerability (advisories that alias each other are one vulnerability),
 * with the chain it arrives through and the upgrade that removes it.
 */
import type { AdvisoryDatabase } from './osv/database.js';
import { compareFix, matchAffected } from './osv/match.js';
import type { OsvRecord } from './osv/schema.js';
import { SEVERITIES, severityOf, type Severity, type SeverityInfo } from './severity.js';
import type { IgnoreEntry } from './ignore.js';
import type { DependencyGraph, Ecosystem, PackageNode } from './types.js';

export interface Finding {
  /** The advisory id reported (a GHSA id when there is one), the others are in `aliases`. */
  id: string;
  aliases: string[];
  ecosystem: Ecosystem;
  package: string;
  version: string;
  summary: string;
  severity: Severity;
  score?: number;
  vector?: string;
  /** First version without the vulnerability; undefined when no fix is published. */
  fixed?: string;
  direct: boolean;
  dev: boolean;
  /** Package ids from a direct dependency down to this package (just this package when direct). */
  chain: string[];
  /** Names of every direct dependency through which this package is installed. */
  via: string[];
  remediation: string;
  lockfile: string;
  references: string[];
}

export interface AuditResult {
  lockfiles: { file: string; format: string; ecosystem: Ecosystem; packages: number }[];
  packages: number;
  advisories: number;
  /** Withdrawn advisories that were skipped. */
  withdrawn: number;
  findings: Finding[];
  ignored: { finding: Finding; ignore: IgnoreEntry }[];
  warnings: string[];
}

export interface AuditOptions {
  ignores?: IgnoreEntry[];
  now?: number;
  /** Called every few hundred packages (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

interface Match {
  record: OsvRecord;
  fixed?: string;
  severity: SeverityInfo;
}

/**
 * Audits parsed lockfiles against an advisory database.
 *
 * @example
 * const result = auditGraphs([parseLockfile('package-lock.json')], loadOsv('osv/'));
 * for (const f of result.findings) console.log(f.package, f.version, f.id, f.severity);
 */
export function auditGraphs(graphs: DependencyGraph[], db: AdvisoryDatabase, options: AuditOptions = {}): AuditResult {
  const now = options.now ?? Date.now();
  const total = graphs.reduce((n, g) => n + g.packages.size, 0);
  const findings: Finding[] = [];
  let done = 0;
  for (const graph of graphs) {
    let paths: Paths | undefined;
    for (const node of graph.packages.values()) {
      if (++done % 250 === 0) options.onProgress?.(done, total);
      const matches: Match[] = [];
      for (const { record, affected } of db.lookup(graph.ecosystem, node.name)) {
        const m = matchAffected(node.version, affected, graph.ecosystem);
        if (m === null) continue;
        const prior = matches.find((x) => x.record === record);
        // One record can list the package twice (e.g. two release lines): the lowest fix applies.
        if (prior !== undefined) prior.fixed = lowerFix(graph.ecosystem, prior.fixed, m.fixed);
        else matches.push({ record, fixed: m.fixed, severity: severityOf(record, affected.severity) });
      }
      if (matches.length === 0) continue;
      paths ??= pathsOf(graph);
      for (const group of groupByAlias(matches)) findings.push(toFinding(graph, node, group, paths));
    }
  }
  options.onProgress?.(total, total);
  const ignored: AuditResult['ignored'] = [];
  const warnings = graphs.flatMap((g) => g.warnings);
  const active = (options.ignores ?? []).filter((i) => {
    if (Date.parse(i.expires) > now) return true;
    warnings.push(`ignore of ${i.id} expired on ${i.expires} (reason was: ${i.reason}); it is reported again`);
    return false;
  });
  const reported = findings.filter((f) => {
    const ignore = active.find((i) => i.id === f.id || f.aliases.includes(i.id));
    if (ignore !== undefined) ignored.push({ finding: f, ignore });
    return ignore === undefined;
  });
  reported.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || (b.score ?? 0) - (a.score ?? 0) || a.package.localeCompare(b.package) || a.id.localeCompare(b.id));
  return {
    lockfiles: graphs.map((g) => ({ file: g.file, format: g.format, ecosystem: g.ecosystem, packages: g.packages.size })),
    packages: total,
    advisories: db.records.size,
    withdrawn: db.withdrawn.length,
    findings: reported,
    ignored,
    warnings,
  };
}

function lowerFix(ecosystem: string, a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return (compareFix(ecosystem, a, b) ?? 0) <= 0 ? a : b;
}

/** Records whose ids or aliases overlap describe one vulnerability. */
function groupByAlias(matches: Match[]): Match[][] {
  const groups: { ids: Set<string>; members: Match[] }[] = [];
  for (const m of matches) {
    const ids = new Set([m.record.id, ...(m.record.aliases ?? [])]);
    const overlapping = groups.filter((g) => [...ids].some((id) => g.ids.has(id)));
    const merged = { ids, members: [m] };
    for (const g of overlapping) {
      for (const id of g.ids) merged.ids.add(id);
      merged.members.push(...g.members);
      groups.splice(groups.indexOf(g), 1);
    }
    groups.push(merged);
  }
  return groups.map((g) => g.members);
}

/** GHSA ids first (what npm and GitHub show), then CVE, then the rest, alphabetically. */
function idRank(id: string): number {
  return id.startsWith('GHSA-') ? 0 : id.startsWith('CVE-') ? 1 : 2;
}

function toFinding(graph: DependencyGraph, node: PackageNode, group: Match[], paths: Paths): Finding {
  const ids = [...new Set(group.flatMap((m) => [m.record.id, ...(m.record.aliases ?? [])]))].sort((a, b) => idRank(a) - idRank(b) || a.localeCompare(b));
  const recordIds = new Set(group.map((m) => m.record.id));
  const id = ids.find((i) => recordIds.has(i)) ?? ids[0]!;
  const lead = group.find((m) => m.record.id === id) ?? group[0]!;
  const worst = group.map((m) => m.severity).sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || (b.score ?? 0) - (a.score ?? 0))[0]!;
  // Every database's fix must be in the upgrade, so take the highest.
  let fixed: string | undefined;
  for (const m of group) if (m.fixed !== undefined && (fixed === undefined || (compareFix(graph.ecosystem, m.fixed, fixed) ?? 0) > 0)) fixed = m.fixed;
  const direct = graph.direct.has(node.id);
  const { chain, via } = direct ? { chain: [node.id], via: [] } : chainOf(paths, node.id);
  const summary = [lead, ...group].map((m) => m.record.summary ?? m.record.details?.split('\n')[0]).find((s) => s !== undefined && s !== '') ?? '(no summary)';
  return {
    id,
    aliases: ids.filter((i) => i !== id),
    ecosystem: graph.ecosystem,
    package: node.name,
    version: node.version,
    summary,
    severity: worst.severity,
    score: worst.score,
    vector: worst.vector,
    fixed,
    direct,
    dev: node.dev,
    chain,
    via,
    remediation: remediationFor(graph, node, fixed, direct, chain),
    lockfile: graph.file,
    references: [...new Set(group.flatMap((m) => (m.record.references ?? []).map((r) => r.url)))],
  };
}

interface Paths {
  /** Shortest chain from a direct dependency, as parent pointers ('' at a direct dependency). */
  parent: Map<string, string>;
  /** Names of the direct dependencies each package is reachable from. */
  via: Map<string, Set<string>>;
}

/**
 * How every package arrives, computed once per graph in O(direct × edges): a breadth-first walk
 * from all direct dependencies at once gives shortest chains; one walk per direct dependency
 * gives the set it arrives through (cycles are fine, nothing recurses).
 */
function pathsOf(graph: DependencyGraph): Paths {
  const parent = new Map<string, string>();
  const queue: string[] = [];
  for (const id of graph.direct) {
    parent.set(id, '');
    queue.push(id);
  }
  for (let i = 0; i < queue.length; i++) {
    for (const dep of graph.packages.get(queue[i]!)?.dependencies ?? []) {
      if (parent.has(dep)) continue;
      parent.set(dep, queue[i]!);
      queue.push(dep);
    }
  }
  const via = new Map<string, Set<string>>();
  for (const root of graph.direct) {
    const name = graph.packages.get(root)!.name;
    const seen = new Set<string>([root]);
    const stack = [root];
    for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
      for (const dep of graph.packages.get(id)?.dependencies ?? []) {
        if (seen.has(dep)) continue;
        seen.add(dep);
        stack.push(dep);
        let set = via.get(dep);
        if (set === undefined) via.set(dep, (set = new Set()));
        set.add(name);
      }
    }
  }
  return { parent, via };
}

function chainOf(paths: Paths, id: string): { chain: string[]; via: string[] } {
  const chain: string[] = [];
  if (paths.parent.has(id)) for (let step = id; step !== ''; step = paths.parent.get(step)!) chain.unshift(step);
  else chain.push(id); // not reachable from the project (an orphan entry in the lockfile)
  return { chain, via: [...(paths.via.get(id) ?? [])].sort() };
}

function remediationFor(graph: DependencyGraph, node: PackageNode, fixed: string | undefined, direct: boolean, chain: string[]): string {
  if (fixed === undefined) return `no fixed version of ${node.name} is published: remove it or replace ${direct ? 'it' : chain[0]}`;
  const format = graph.format;
  if (graph.ecosystem === 'PyPI') return `pin ${node.name}==${fixed} in ${graph.file} (pip install '${node.name}==${fixed}')`;
  if (graph.ecosystem === 'crates.io') return `cargo update -p ${node.name} --precise ${fixed}`;
  const tool = format.startsWith('yarn') ? 'yarn add' : format.startsWith('pnpm') ? 'pnpm add' : 'npm install';
  if (direct) return `${tool} ${node.name}@${fixed}`;
  const pin = `{ "${node.name}": "${fixed}" }`;
  const override = format.startsWith('yarn') ? `"resolutions": ${pin}` : format.startsWith('pnpm') ? `"pnpm": { "overrides": ${pin} }` : `"overrides": ${pin}`;
  const top = graph.packages.get(chain[0]!)?.name ?? chain[0];
  return `update ${top} to a release that depends on ${node.name}@>=${fixed} (via ${chain.join(' > ')}), or force it with ${override} in package.json`;
}
