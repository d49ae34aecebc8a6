/**
 * The dependency model every lockfile parser produces and every consumer (audit, SBOM) reads.
 */

/** OSV ecosystem names (as osv.dev spells them) that Rampart can read lockfiles for. */
export type Ecosystem = 'npm' | 'PyPI' | 'crates.io';

/** One installed package (one name at one version). */
export interface PackageNode {
  /** Unique within its graph: `name@version`. */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** Only reached through devDependencies (npm `dev: true`, pnpm `dev: true`). */
  dev: boolean;
  /** Subresource-integrity strings (`sha512-BASE64`) or `sha256:HEX` hashes from the lockfile. */
  readonly integrity: string[];
  /** Where the lockfile says the package was fetched from, if it says. */
  readonly resolved?: string;
  /** Licence as declared (SPDX expression or free text), if the lockfile or installation says. */
  license?: string;
  /** Ids of the packages this one depends on. */
  readonly dependencies: Set<string>;
}

/** A parsed lockfile: the project's direct dependencies and everything installed. */
export interface DependencyGraph {
  /** The lockfile path as given (relative paths stay relative, for reports). */
  readonly file: string;
  /** e.g. `package-lock.json v3`, `yarn.lock (berry v8)`. */
  readonly format: string;
  readonly ecosystem: Ecosystem;
  readonly root: { name: string; version: string };
  readonly packages: Map<string, PackageNode>;
  /** Ids of the project's direct dependencies. */
  readonly direct: Set<string>;
  /** Non-fatal notes (e.g. an unpinned requirement that cannot be audited). */
  readonly warnings: string[];
}

/**
 * Small builder shared by the parsers so each only deals with its own format.
 *
 * @example
 * const g = new GraphBuilder('yarn.lock', 'yarn.lock (classic)', 'npm', { name: 'app', version: '1.0.0' });
 * const a = g.add('lodash', '4.17.20', { integrity: 'sha512-…' });
 * g.markDirect(a);
 */
export class GraphBuilder {
  readonly packages = new Map<string, PackageNode>();
  readonly direct = new Set<string>();
  readonly warnings: string[] = [];

  constructor(
    readonly file: string,
    readonly format: string,
    readonly ecosystem: Ecosystem,
    readonly root: { name: string; version: string },
  ) {}

  /** Adds (or returns the existing) `name@version` node; later calls merge hashes. */
  add(name: string, version: string, extra: { integrity?: string | string[]; resolved?: string; license?: string; dev?: boolean } = {}): PackageNode {
    const id = `${name}@${version}`;
    let node = this.packages.get(id);
    if (node === undefined) {
      node = { id, name, version, dev: extra.dev ?? false, integrity: [], dependencies: new Set(), resolved: extra.resolved, license: extra.license };
      this.packages.set(id, node);
    } else {
      // The same name@version can be installed at several paths; it is dev only if every copy is.
      node.dev = node.dev && (extra.dev ?? false);
      node.license ??= extra.license;
    }
    for (const hash of [extra.integrity ?? []].flat()) {
      for (const part of hash.split(/\s+/)) if (part !== '' && !node.integrity.includes(part)) node.integrity.push(part);
    }
    return node;
  }

  markDirect(node: PackageNode): void {
    this.direct.add(node.id);
  }

  /**
   * For formats without per-package dev flags: everything not reachable from a production direct
   * dependency is dev-only.
   */
  deriveDev(productionDirect: Iterable<string>): void {
    for (const node of this.packages.values()) node.dev = true;
    const queue = [...productionDirect];
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
      const node = this.packages.get(id);
      if (node === undefined || !node.dev) continue;
      node.dev = false;
      queue.push(...node.dependencies);
    }
  }

  build(): DependencyGraph {
    if (this.direct.size === 0) this.inferDirect();
    return { file: this.file, format: this.format, ecosystem: this.ecosystem, root: this.root, packages: this.packages, direct: this.direct, warnings: this.warnings };
  }

  /** Without a manifest naming the direct dependencies, the packages nothing depends on are the direct ones. */
  private inferDirect(): void {
    const depended = new Set<string>();
    for (const node of this.packages.values()) for (const dep of node.dependencies) depended.add(dep);
    for (const id of this.packages.keys()) if (!depended.has(id)) this.direct.add(id);
  }
}
