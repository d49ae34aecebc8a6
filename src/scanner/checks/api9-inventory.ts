/**
 * API9 Improper Inventory Management: live endpoints the spec does not document (other API
 * versions, spec files, debug, actuator and config paths). A random path is fetched first so
 * catch-all servers (SPA fallbacks, 200-for-everything) do not produce false findings.
 */
import { randomBytes } from 'node:crypto';
import { finding, ok, type Check, type ScanContext } from '../context.js';
import type { Exchange } from '../http.js';
import type { Severity } from '../types.js';

const RULES = {
  debug: { id: 'API9-debug-endpoint', category: 'API9', title: 'Undocumented debug or management endpoint is live' },
  version: { id: 'API9-old-version', category: 'API9', title: 'Undocumented API version is live' },
  spec: { id: 'API9-spec-exposed', category: 'API9', title: 'API description served publicly' },
} as const;

const PROBES: { path: string; severity: Severity; rule: keyof typeof RULES }[] = [
  ...['/.env', '/.git/config', '/actuator/env', '/actuator/heapdump', '/config.json', '/server-status', '/debug/pprof/', '/phpinfo.php', '/console', '/__debug__'].map((path) => ({ path, severity: 'high' as const, rule: 'debug' as const })),
  ...['/actuator', '/actuator/health', '/actuator/mappings', '/debug', '/debug/vars', '/metrics', '/graphiql', '/admin', '/trace', '/status'].map((path) => ({ path, severity: 'medium' as const, rule: 'debug' as const })),
  ...['/openapi.json', '/openapi.yaml', '/swagger.json', '/swagger-ui.html', '/v2/api-docs', '/v3/api-docs', '/api-docs', '/docs'].map((path) => ({ path, severity: 'info' as const, rule: 'spec' as const })),
];

/** `/v2/notes` → `/v1/notes`, `/v3/notes`; `/notes` → `/v1/notes`, `/api/notes`. */
function versionVariants(path: string): string[] {
  const m = /\/v(\d+)(\/|$)/.exec(path);
  if (m === null) return [`/v1${path}`, `/api${path}`, `/api/v1${path}`];
  const n = Number(m[1]);
  return [n - 1, n + 1].filter((v) => v >= 0).map((v) => path.replace(`/v${n}`, `/v${v}`));
}

export const inventoryCheck: Check = {
  category: 'API9',
  rules: Object.values(RULES),
  async run(ctx) {
    const who = ctx.users[0] ?? ctx.identities[0]!;
    const baseline = await ctx.client.send({ method: 'GET', path: `/rampart-scan-${randomBytes(6).toString('hex')}`, as: who });
    const documented = new Set(ctx.spec.operations.map((op) => op.path));
    const live = (ex: Exchange): boolean => ok(ex) && !(ok(baseline) && similar(ex.text, baseline.text));
    for (const probe of PROBES) {
      if (documented.has(probe.path)) continue;
      const ex = await ctx.client.send({ method: 'GET', path: probe.path, as: who });
      if (!live(ex)) continue;
      ctx.report(finding(RULES[probe.rule], probe.severity, `GET ${probe.path}`, `${probe.path} is not in the spec but answered HTTP ${ex.status}.`,
        probe.rule === 'spec' ? 'If the API description is meant to be public, nothing to do; otherwise serve it only to authenticated developers.' : 'Remove debug and management endpoints from production builds, or expose them only on an internal listener; route only documented paths through the gateway (deny by default).',
        [ex.evidence]));
    }
    await versions(ctx, documented, live);
  },
};

async function versions(ctx: ScanContext, documented: Set<string>, live: (ex: Exchange) => boolean): Promise<void> {
  const who = ctx.users[0] ?? ctx.identities[0]!;
  const lists = ctx.spec.operations.filter((op) => op.method === 'GET' && !op.path.includes('{')).slice(0, 5);
  for (const op of lists) {
    for (const variant of versionVariants(op.path)) {
      if (documented.has(variant)) continue;
      const ex = await ctx.client.send({ method: 'GET', path: variant, as: who });
      if (!live(ex)) continue;
      ctx.report(finding(RULES.version, 'medium', `GET ${variant}`, `${variant}, an undocumented variant of ${op.path}, is live (HTTP ${ex.status}); old versions often lack the current version's fixes.`,
        'Retire old versions (410 Gone) or keep them in the inventory with the same protections; route only documented paths.', [ex.evidence]));
      break;
    }
  }
}

/** Same body apart from ids and timestamps: a catch-all answered. */
function similar(a: string, b: string): boolean {
  const norm = (s: string): string => s.replace(/rampart-scan-[0-9a-f]+|\/[\w./-]+|\d+/g, '');
  return norm(a) === norm(b);
}
