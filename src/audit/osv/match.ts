/**
 * OSV `affected` evaluation, as the OSV schema specifies it: a version is affected by an entry when
 * it is listed in `versions`, or when some SEMVER/ECOSYSTEM range's events, sorted by version,
 * leave it affected (introduced ≤ v turns on; fixed ≤ v or last_affected < v turns off) and it is
 * below one of the range's `limit`s, if it has any.
 */
import { eventOf, type OsvAffected, type OsvRange } from './schema.js';
import { schemeFor, type VersionScheme } from './versions.js';

export interface MatchResult {
  /** The first version that fixes it, when a matching range says (undefined: no fix known). */
  fixed?: string;
}

/** `0` (introduced) is below everything and `*` (limit) above everything, in every scheme. */
function compareEvent(scheme: VersionScheme, a: string, b: string): number | null {
  if (a === b) return 0;
  if (a === '0' || b === '*') return -1;
  if (b === '0' || a === '*') return 1;
  return scheme.compare(a, b);
}

/** Each range is sorted once: a range belongs to one `affected` entry, so to one scheme. */
const sortedRanges = new WeakMap<OsvRange, [string, string][] | null>();

function sortEvents(scheme: VersionScheme, range: OsvRange): [string, string][] | null {
  const cached = sortedRanges.get(range);
  if (cached !== undefined) return cached;
  const sorted = sortUncached(scheme, range);
  sortedRanges.set(range, sorted);
  return sorted;
}

function sortUncached(scheme: VersionScheme, range: OsvRange): [string, string][] | null {
  const events = range.events.map(eventOf);
  let unreadable = false;
  events.sort((x, y) => {
    const c = compareEvent(scheme, x[1], y[1]);
    if (c === null) unreadable = true;
    return c ?? 0;
  });
  return unreadable ? null : events;
}

/**
 * Whether `version` falls in one SEMVER/ECOSYSTEM range; and the next fix above it, if any.
 *
 * @example
 * rangeMatch('1.1.0', { type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.2.0' }] }, 'npm'); // { fixed: '1.2.0' }
 */
export function rangeMatch(version: string, range: OsvRange, ecosystem: string): MatchResult | null {
  const scheme = schemeFor(range.type, ecosystem);
  if (scheme === undefined) return null;
  const events = sortEvents(scheme, range);
  // An event version the scheme cannot read makes the whole ordering unknowable: skip the range.
  if (events === null) return null;
  const at = (other: string): number | null => compareEvent(scheme, version, other);
  let affected = false;
  const limits: string[] = [];
  for (const [kind, v] of events) {
    const c = at(v);
    if (c === null) return null;
    if (kind === 'introduced' && c >= 0) affected = true;
    else if (kind === 'fixed' && c >= 0) affected = false;
    else if (kind === 'last_affected' && c > 0) affected = false;
    else if (kind === 'limit') limits.push(v);
  }
  if (!affected) return null;
  if (limits.length > 0 && !limits.some((l) => (at(l) ?? 0) < 0)) return null;
  const fix = events.find(([kind, v]) => kind === 'fixed' && (at(v) ?? 0) < 0);
  return { fixed: fix?.[1] };
}

/**
 * Whether `version` of a package is affected by one OSV `affected` entry.
 *
 * @example
 * matchAffected('4.17.20', { ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }] }, 'npm');
 * // → { fixed: '4.17.21' }
 */
export function matchAffected(version: string, affected: OsvAffected, ecosystem: string): MatchResult | null {
  let result: MatchResult | null = null;
  for (const range of affected.ranges ?? []) {
    const m = rangeMatch(version, range, ecosystem);
    if (m === null) continue;
    if (result === null || (m.fixed !== undefined && (result.fixed === undefined || (compareFix(ecosystem, m.fixed, result.fixed) ?? 0) < 0))) result = m;
  }
  if (result === null && (affected.versions ?? []).includes(version)) result = {};
  return result;
}

/**
 * Orders two fixed versions in the ecosystem's scheme.
 *
 * @example
 * compareFix('PyPI', '2.31.0', '2.4.0'); // 1
 */
export function compareFix(ecosystem: string, a: string, b: string): number | null {
  return schemeFor('ECOSYSTEM', ecosystem)?.compare(a, b) ?? null;
}
