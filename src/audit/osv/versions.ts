/**
 * Version orderings OSV ranges are evaluated in: SemVer 2.0 (type SEMVER, and the npm and
 * crates.io ecosystems) and PEP 440 (PyPI). `compare` returns null when a version cannot be read
 * in the scheme, so the caller can skip it instead of guessing.
 */
import semver from 'semver';

export interface VersionScheme {
  compare(a: string, b: string): number | null;
}

/** Parsed versions, reused: the same few thousand version strings are compared over and over. */
const parsed = new Map<string, semver.SemVer | null>();

function semverOf(v: string): semver.SemVer | null {
  let result = parsed.get(v);
  if (result === undefined) {
    const text = v.trim().replace(/^v/, '');
    result = semver.parse(text) ?? semver.parse(text, { loose: true });
    if (parsed.size > 200_000) parsed.clear(); // bound memory on huge inputs
    parsed.set(v, result);
  }
  return result;
}

/**
 * SemVer 2.0 precedence (pre-releases before their release, build metadata ignored).
 *
 * @example
 * SEMVER_SCHEME.compare('1.0.0-rc.1', '1.0.0'); // -1
 */
export const SEMVER_SCHEME: VersionScheme = {
  compare(a, b) {
    const x = semverOf(a);
    const y = semverOf(b);
    return x === null || y === null ? null : x.compare(y);
  },
};

const PEP440 =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/i;

type Pep440Key = [number, number[], number, number, number, number, number, (number | string)[]];

/** A sort key for a PEP 440 version, following `packaging.version` (the reference implementation). */
function pep440Key(v: string): Pep440Key | null {
  const m = PEP440.exec(v.trim());
  if (m === null) return null;
  const release = m[2]!.split('.').map(Number);
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  const preKind = m[3]?.toLowerCase();
  const preRank = preKind === undefined ? undefined : { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 }[preKind]!;
  const hasPost = m[5] !== undefined || m[6] !== undefined;
  const hasDev = m[8] !== undefined;
  // 1.0.dev0 < 1.0a1 < 1.0 < 1.0.post1: a dev-only release sorts before any pre-release.
  const pre: [number, number] =
    preRank !== undefined ? [preRank, Number(m[4] ?? 0)] : !hasPost && hasDev ? [-Infinity, 0] : [Infinity, 0];
  const post = hasPost ? Number(m[5] ?? m[7] ?? 0) : -Infinity;
  const dev = hasDev ? Number(m[9] ?? 0) : Infinity;
  const local = (m[10] ?? '').split(/[-_.]/).filter((s) => s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s.toLowerCase()));
  return [Number(m[1] ?? 0), release, pre[0], pre[1], post, dev, 0, local];
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * PEP 440 ordering (epochs, pre/post/dev releases, local versions).
 *
 * @example
 * PEP440_SCHEME.compare('2.0.0rc1', '2.0.0'); // -1
 */
export const PEP440_SCHEME: VersionScheme = {
  compare(a, b) {
    const x = pep440Key(a);
    const y = pep440Key(b);
    if (x === null || y === null) return null;
    let c = cmp(x[0], y[0]);
    for (let i = 0; c === 0 && i < Math.max(x[1].length, y[1].length); i++) c = cmp(x[1][i] ?? 0, y[1][i] ?? 0);
    for (let i = 2; c === 0 && i < 7; i++) c = cmp(x[i] as number, y[i] as number);
    // Local segments: numeric beats alphanumeric, and a longer local version sorts after its prefix.
    for (let i = 0; c === 0 && i < Math.max(x[7].length, y[7].length); i++) {
      const p = x[7][i];
      const q = y[7][i];
      if (p === undefined || q === undefined) c = p === undefined ? -1 : 1;
      else if (typeof p === typeof q) c = p < q ? -1 : p > q ? 1 : 0;
      else c = typeof p === 'number' ? 1 : -1;
    }
    return c;
  },
};

/**
 * The ordering for an OSV range: SEMVER ranges always use SemVer; ECOSYSTEM ranges the ecosystem's own.
 *
 * @example
 * schemeFor('ECOSYSTEM', 'PyPI') === PEP440_SCHEME; // true
 */
export function schemeFor(rangeType: string, ecosystem: string): VersionScheme | undefined {
  if (rangeType === 'SEMVER') return SEMVER_SCHEME;
  if (rangeType !== 'ECOSYSTEM') return undefined; // GIT ranges name commits, not releases
  if (ecosystem === 'PyPI') return PEP440_SCHEME;
  if (ecosystem === 'npm' || ecosystem === 'crates.io') return SEMVER_SCHEME;
  return undefined;
}
