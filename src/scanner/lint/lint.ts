/**
 * `rampart lint` as a library: a gateway config, the OpenAPI documents its routes use (and any
 * given with `--spec`), linted together into one report with a 0–100 score.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile } from '../../config/load.js';
import { isObject, loadSpecFile, type ApiSpec } from '../openapi.js';
import { VERSION } from '../scan.js';
import type { Finding, Report, Severity } from '../types.js';
import { CONFIG_RULES, lintConfig, lintInlineSecrets, routeCovers, STAGE_KINDS, type ConfigView } from './config-lint.js';
import { lintSpec, OPENAPI_RULES } from './openapi-lint.js';

/** Points a finding of each severity takes off the score. */
const WEIGHT: Record<Severity, number> = { info: 0, low: 2, medium: 6, high: 15, critical: 25 };

export interface LintOptions {
  /** rampart.yaml, or an OpenAPI document on its own. */
  file?: string;
  /** Extra OpenAPI documents (checked for coverage against the config's routes). */
  specs?: string[];
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

/**
 * @example
 *   const report = runLint({ file: 'rampart.yaml' }); report.score // 0..100
 */
export function runLint(options: LintOptions): Report {
  const now = options.now ?? Date.now;
  const startedAt = new Date(now()).toISOString();
  const findings: Finding[] = [];
  const targets: string[] = [];
  const notes: string[] = [];
  const specs: { spec: ApiSpec; file: string }[] = (options.specs ?? []).map((f) => ({ spec: loadSpecFile(f), file: f }));
  let config: ConfigView | undefined;
  if (options.file !== undefined) {
    targets.push(options.file);
    const text = readFileSync(options.file, 'utf8');
    if (isOpenApi(text)) specs.push({ spec: loadSpecFile(options.file), file: options.file });
    else {
      const loaded = loadConfigFile(options.file, options.env);
      config = loaded.config;
      findings.push(...lintConfig(config, options.file), ...lintInlineSecrets(text, options.file));
      for (const route of config.routes) {
        for (const stage of [...config.stages, ...route.stages].filter((s) => (STAGE_KINDS.openapi as readonly string[]).includes(s.type))) {
          const ref = ['spec', 'file', 'document', 'path'].map((k) => (stage as Record<string, unknown>)[k]).find((v): v is string => typeof v === 'string');
          if (ref === undefined) continue;
          const file = resolve(loaded.baseDir, ref);
          if (!specs.some((s) => resolve(s.file) === file)) specs.push({ spec: loadSpecFile(file), file: ref });
        }
      }
    }
  }
  for (const { spec, file } of specs) {
    if (!targets.includes(file)) targets.push(file);
    findings.push(...lintSpec(spec, file));
    if (config !== undefined) findings.push(...coverage(config, spec, file));
  }
  if (options.file === undefined && specs.length === 0) notes.push('nothing to lint');
  const score = Math.max(0, 100 - findings.reduce((sum, f) => sum + WEIGHT[f.severity], 0));
  return {
    schemaVersion: 1,
    tool: { name: 'rampart', version: VERSION },
    kind: 'lint',
    target: targets.join(', '),
    startedAt,
    finishedAt: new Date(now()).toISOString(),
    requests: 0,
    score,
    rules: [...Object.values(CONFIG_RULES), ...Object.values(OPENAPI_RULES)],
    findings,
    notes,
  };
}

function isOpenApi(text: string): boolean {
  try {
    const doc: unknown = parseYaml(text, { maxAliasCount: 100 });
    return isObject(doc) && typeof doc.openapi === 'string';
  } catch {
    return false;
  }
}

/** Spec operations that no route (path and method) covers. */
function coverage(config: ConfigView, spec: ApiSpec, file: string): Finding[] {
  const uncovered = spec.operations.filter((op) => !config.routes.some((r) => routeCovers(r.path, op.path) && (r.methods === undefined || r.methods.includes(op.method))));
  if (uncovered.length === 0) return [];
  return [{
    ruleId: CONFIG_RULES.uncovered.id,
    category: 'LINT',
    severity: 'medium',
    title: CONFIG_RULES.uncovered.title,
    description: `${uncovered.length} operation(s) of ${file} are not routed through the gateway: ${uncovered.slice(0, 8).map((o) => `${o.method} ${o.path}`).join(', ')}${uncovered.length > 8 ? ', …' : ''}.`,
    remediation: 'Route every documented operation through the gateway (so its stages apply), or remove it from the spec if it is gone.',
    location: `${file}: paths`,
    evidence: [],
  }];
}
