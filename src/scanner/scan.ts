/**
 * `rampart scan` as a library: load the spec, start the canary, discover objects, run every
 * check, clean up what the scan created, and return the report.
 */
import type { ApiSpec } from './openapi.js';
import { ScopedClient, type Identity } from './http.js';
import { startCanary } from './canary.js';
import { discoverObjects } from './discover.js';
import type { Check, ScanContext, ScanSettings } from './context.js';
import { Progress, type ProgressStream } from './progress.js';
import { CATEGORIES, type CategoryId, type Finding, type Report } from './types.js';
import { bolaCheck } from './checks/api1-bola.js';
import { authCheck } from './checks/api2-auth.js';
import { propertyCheck } from './checks/api3-properties.js';
import { resourceCheck } from './checks/api4-resources.js';
import { bflaCheck } from './checks/api5-bfla.js';
import { flowCheck } from './checks/api6-flows.js';
import { ssrfCheck } from './checks/api7-ssrf.js';
import { misconfigCheck } from './checks/api8-misconfig.js';
import { inventoryCheck } from './checks/api9-inventory.js';
import { consumptionCheck } from './checks/api10-consumption.js';
import { injectionCheck } from './checks/injection.js';

export const VERSION = '0.1.0';

/** Every check in report order. */
export const CHECKS: readonly Check[] = [
  bolaCheck, authCheck, propertyCheck, resourceCheck, bflaCheck, flowCheck, ssrfCheck, misconfigCheck, inventoryCheck, consumptionCheck, injectionCheck,
];

export interface ScanOptions {
  spec: ApiSpec;
  target: string;
  identities: Identity[];
  /** Requests per second (cap). Default 20. */
  rate?: number;
  safe?: boolean;
  insecure?: boolean;
  /** Only these categories (default all). */
  only?: CategoryId[];
  settings?: Partial<Omit<ScanSettings, 'safe'>>;
  progress?: ProgressStream;
  now?: () => number;
}

/**
 * Runs a scan and returns its report (the caller writes it out).
 *
 * @example
 *   const report = await runScan({ spec: loadSpecFile('openapi.yaml'), target: 'http://127.0.0.1:3000',
 *     identities: [parseIdentity('alice=Authorization:Bearer A'), parseIdentity('bob=Authorization:Bearer B')] });
 */
export async function runScan(options: ScanOptions): Promise<Report> {
  const now = options.now ?? Date.now;
  const startedAt = new Date(now()).toISOString();
  const checks = CHECKS.filter((c) => options.only === undefined || options.only.includes(c.category));
  const progress = new Progress(options.progress, checks.length + 1, now);
  const client = new ScopedClient({ target: options.target, rate: options.rate ?? 20, insecure: options.insecure, onRequest: () => progress.tick() });
  for (const id of options.identities) client.protect(id);
  const canary = await startCanary();
  const findings: Finding[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  const admins = options.identities.filter((i) => /^admin/i.test(i.name));
  const ctx: ScanContext = {
    spec: options.spec,
    client,
    identities: options.identities,
    admins,
    users: options.identities.filter((i) => !admins.includes(i)),
    objects: [],
    settings: { safe: options.safe ?? false, burst: 30, timingDelayMs: 2000, lockoutAttempts: 12, ...options.settings },
    canary,
    report(f) {
      // One finding per rule and location: repeated evidence adds nothing.
      const key = `${f.ruleId}\n${f.location}`;
      if (seen.has(key)) return;
      seen.add(key);
      findings.push({ ...f, description: client.redact(f.description) });
    },
    note: (text) => notes.push(text),
  };
  try {
    progress.step('discovering objects');
    await discoverObjects(ctx);
    for (const check of checks) {
      progress.step(`${check.category} ${CATEGORIES[check.category]}`);
      try {
        await check.run(ctx);
      } catch (err) {
        notes.push(`${check.category}: check stopped early: ${client.redact((err as Error).message)}`);
      }
    }
    if (!ctx.settings.safe) await cleanUp(ctx);
  } finally {
    await canary.close();
    await client.close();
  }
  progress.done(`scan finished: ${findings.length} finding(s), ${client.requests} requests`);
  return {
    schemaVersion: 1,
    tool: { name: 'rampart', version: VERSION },
    kind: 'scan',
    target: client.origin + client.base,
    startedAt,
    finishedAt: new Date(now()).toISOString(),
    requests: client.requests,
    rules: checks.flatMap((c) => c.rules),
    findings,
    notes,
  };
}

/** Deletes what the scan created, as its owner, where the spec has a DELETE. */
async function cleanUp(ctx: ScanContext): Promise<void> {
  for (const obj of ctx.objects.filter((o) => o.created)) {
    const del = ctx.spec.operations.find((op) => op.path === obj.template && op.method === 'DELETE');
    const owner = ctx.identities.find((i) => i.name === obj.owner);
    if (del === undefined || owner === undefined) continue;
    await ctx.client.send({ method: 'DELETE', path: obj.template.replace(`{${obj.param}}`, encodeURIComponent(obj.id)), as: owner });
  }
}
