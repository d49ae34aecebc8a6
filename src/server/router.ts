import { RampartError } from '../core/errors.js';
import type { Stage } from '../core/stage.js';
import type { RouteConfig, UpstreamConfig } from '../config/schema.js';

/** A route ready to serve: matcher, sorted stages and its upstream. */
export interface CompiledRoute {
  readonly id: string;
  readonly config: RouteConfig;
  readonly upstreamName: string;
  readonly upstream: UpstreamConfig;
  /** Stages with a request-side handler, in phase order. */
  readonly stages: readonly Stage[];
  /** Stages with response hooks, in phase order. */
  readonly responseStages: readonly Stage[];
  readonly maxBodyBytes: number;
  /** Index in `stages` of the first stage after the authenticate phase (`stages.length` when none follows); -1 when the route authenticates nobody. */
  readonly authenticateEnd: number;
  /** WWW-Authenticate value for RAMPART_AUTH_REQUIRED (every authenticate stage's challenge). */
  readonly challenge: string;
}

interface Matcher {
  readonly route: CompiledRoute;
  readonly hosts: readonly string[];
  readonly regex: RegExp;
  readonly paramNames: readonly string[];
  readonly methods: ReadonlySet<string>;
  /** Higher is more specific: literal segments beat parameters beat the `**` rest. */
  readonly score: number;
}

export type RouteMatch =
  | { readonly route: CompiledRoute; readonly params: Record<string, string> }
  | undefined;

/**
 * Matches host, path pattern and method. Deny by default: no match is a 404, a path match with
 * another method a 405 with `Allow`.
 *
 * @example
 *   router.match('api.example.com', '/users/42', 'GET') // { route, params: { id: '42' } }
 */
export class Router {
  private readonly matchers: Matcher[];

  constructor(routes: readonly CompiledRoute[]) {
    this.matchers = routes.map(compileMatcher).sort((a, b) => b.score - a.score);
  }

  /** Throws RAMPART_ROUTE_NOT_FOUND / RAMPART_METHOD_NOT_ALLOWED. `path` is decoded. */
  match(host: string, path: string, method: string): { route: CompiledRoute; params: Record<string, string> } {
    let allowed: Set<string> | undefined;
    for (const m of this.matchers) {
      if (m.hosts.length > 0 && !m.hosts.some((h) => hostMatches(h, host))) continue;
      const found = m.regex.exec(path);
      if (found === null) continue;
      if (!m.methods.has(method)) {
        allowed ??= new Set();
        for (const x of m.methods) allowed.add(x);
        continue;
      }
      const params: Record<string, string> = {};
      for (let i = 0; i < m.paramNames.length; i++) params[m.paramNames[i]!] = found[i + 1] ?? '';
      return { route: m.route, params };
    }
    if (allowed !== undefined) {
      const allow = [...allowed].join(', ');
      throw new RampartError('RAMPART_METHOD_NOT_ALLOWED', `${method} is not allowed here.`, { headers: { allow } });
    }
    throw new RampartError('RAMPART_ROUTE_NOT_FOUND', 'No route matches this request.');
  }
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compileMatcher(route: CompiledRoute): Matcher {
  const segments = route.config.path.split('/').slice(1);
  const paramNames: string[] = [];
  let regex = '^';
  let score = 0;
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '**' && last) {
      regex += '(?:/.*)?';
      return;
    }
    const param = /^\{([a-zA-Z_][a-zA-Z0-9_]*)\}$/.exec(seg);
    if (param !== null) {
      paramNames.push(param[1]!);
      regex += '/([^/]+)';
      score += 2;
    } else {
      regex += `/${escapeRegex(seg)}`;
      score += 3;
    }
  });
  if (segments.length === 1 && segments[0] === '') regex = '^/';
  regex += '$';
  // Exact routes also beat prefix routes of the same literal depth.
  if (!route.config.path.endsWith('/**')) score += 1;
  return {
    route,
    hosts: route.config.hosts.map((h) => h.toLowerCase()),
    regex: new RegExp(regex),
    paramNames,
    methods: new Set(route.config.methods),
    score,
  };
}
