/**
 * CycloneDX 1.5 JSON SBOM from parsed lockfiles: every installed package as a component with its
 * purl, the hashes from the lockfile's integrity fields, its licence when known, and the
 * dependency graph (the project's direct dependencies hang off the metadata component).
 */
import { randomUUID } from 'node:crypto';
import type { DependencyGraph, Ecosystem, PackageNode } from '../audit/types.js';

/**
 * Package URL (https://github.com/package-url/purl-spec) of an installed package.
 *
 * @example
 * purlOf('npm', '@babel/core', '7.24.0'); // 'pkg:npm/%40babel/core@7.24.0'
 */
export function purlOf(ecosystem: Ecosystem, name: string, version: string): string {
  const type = { npm: 'npm', PyPI: 'pypi', 'crates.io': 'cargo' }[ecosystem];
  const path = name.split('/').map(encodeURIComponent).join('/');
  return `pkg:${type}/${type === 'pypi' ? path.toLowerCase().replace(/_/g, '-') : path}@${encodeURIComponent(version)}`;
}

const ALGORITHMS: Record<string, string> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/** `sha512-BASE64` (SRI, npm/yarn/pnpm) or `sha256:HEX` (pip, Cargo) → a CycloneDX hash. */
export function hashOf(integrity: string): { alg: string; content: string } | undefined {
  const sri = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+=*)$/.exec(integrity);
  if (sri !== null) return { alg: ALGORITHMS[sri[1]!]!, content: Buffer.from(sri[2]!, 'base64').toString('hex') };
  const hex = /^(sha1|sha256|sha384|sha512):([0-9a-f]+)$/.exec(integrity);
  if (hex !== null) return { alg: ALGORITHMS[hex[1]!]!, content: hex[2]! };
  return undefined;
}

/** An SPDX expression goes in `expression`; anything else ("SEE LICENSE IN …") is a named licence. */
function licensesOf(license: string | undefined): unknown[] | undefined {
  if (license === undefined || license.trim() === '') return undefined;
  if (/^[A-Za-z0-9.+-]+$/.test(license) && !/^UNLICENSED$/i.test(license)) return [{ license: { id: license } }];
  if (/^\(?[A-Za-z0-9.+-]+(\s+(AND|OR|WITH)\s+\(?[A-Za-z0-9.+-]+\)?)+\)?$/.test(license)) return [{ expression: license }];
  return [{ license: { name: license } }];
}

export interface SbomOptions {
  toolVersion: string;
  /** Timestamp in ms (SOURCE_DATE_EPOCH makes builds reproducible). */
  now: number;
  serialNumber?: string;
}

/**
 * Builds the SBOM document.
 *
 * @example
 * const bom = buildSbom([parseLockfile('package-lock.json', { readInstalled: true })], { toolVersion: '0.1.0', now: Date.now() });
 */
export function buildSbom(graphs: DependencyGraph[], options: SbomOptions): Record<string, unknown> {
  const first = graphs[0]!;
  const rootRef = `pkg:${first.ecosystem === 'npm' ? 'npm' : 'generic'}/${encodeURIComponent(first.root.name)}@${encodeURIComponent(first.root.version)}`;
  const components = new Map<string, Record<string, unknown>>();
  const dependsOn = new Map<string, Set<string>>([[rootRef, new Set()]]);
  for (const graph of graphs) {
    const refOf = (node: PackageNode): string => purlOf(graph.ecosystem, node.name, node.version);
    for (const node of graph.packages.values()) {
      const ref = refOf(node);
      const hashes = node.integrity.map(hashOf).filter((h) => h !== undefined);
      const slash = node.name.startsWith('@') ? node.name.indexOf('/') : -1;
      components.set(ref, {
        type: 'library',
        'bom-ref': ref,
        ...(slash > 0 ? { group: node.name.slice(0, slash), name: node.name.slice(slash + 1) } : { name: node.name }),
        version: node.version,
        // Dev-only packages are not shipped: CycloneDX calls that "excluded".
        scope: node.dev ? 'excluded' : 'required',
        purl: ref,
        ...(hashes.length > 0 ? { hashes } : {}),
        ...(licensesOf(node.license) !== undefined ? { licenses: licensesOf(node.license) } : {}),
        ...(node.resolved !== undefined && /^https?:\/\//.test(node.resolved) ? { externalReferences: [{ type: 'distribution', url: node.resolved }] } : {}),
      });
      const deps = dependsOn.get(ref) ?? new Set<string>();
      for (const dep of node.dependencies) deps.add(refOf(graph.packages.get(dep)!));
      dependsOn.set(ref, deps);
    }
    for (const id of graph.direct) dependsOn.get(rootRef)!.add(refOf(graph.packages.get(id)!));
  }
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: options.serialNumber ?? `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: new Date(options.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      tools: { components: [{ type: 'application', name: 'rampart', version: options.toolVersion }] },
      component: { type: 'application', 'bom-ref': rootRef, name: first.root.name, version: first.root.version },
      properties: graphs.map((g) => ({ name: 'rampart:lockfile', value: `${g.file} (${g.format})` })),
    },
    components: [...components.values()].sort((a, b) => String(a['bom-ref']).localeCompare(String(b['bom-ref']))),
    dependencies: [...dependsOn].map(([ref, deps]) => ({ ref, dependsOn: [...deps].sort() })),
  };
}
